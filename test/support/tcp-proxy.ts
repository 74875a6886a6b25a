/**
 * A small TCP proxy on loopback for fault tests: put it between a client and Postgres or Redis,
 * then cut, blackhole or slow the link.
 *
 *   const proxy = await createProxy({ host: redis.host, port: redis.port });
 *   const client = new Redis(proxiedUrl(redis.url, proxy));
 *   proxy.cut();        // live connections reset; new ones reset on accept, until restore()
 *   proxy.blackhole();  // live connections go silent (bytes dropped); new ones hang; until restore()
 *   proxy.restore();
 *   proxy.delay(50);    // every chunk waits 50 ms, both directions, order kept; 0 = off
 *   proxy.holdReplies(); // on the connections open now, replies are kept (requests still pass) until releaseReplies()
 *   await proxy.close();
 *
 * The listening socket stays bound while cut, so the port cannot be taken by anyone else.
 */
import { createServer, Socket } from "node:net";

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Client connections currently open through the proxy. */
  readonly connections: number;
  /** Resets every live connection and resets new ones on accept, until `restore()`. */
  cut(): void;
  /**
   * A partition: live connections stop passing bytes (dropped, not queued) and new connections are
   * accepted but never answered, until `restore()`, which closes the blackholed ones (their streams lost data).
   */
  blackhole(): void;
  /** Ends `cut()` / `blackhole()`: new connections pass again. */
  restore(): void;
  /** Delays every chunk by `ms` in both directions, preserving order; 0 turns it off. */
  delay(ms: number): void;
  /**
   * On the connections open now, keeps every server→client chunk (requests still reach the server, which executes
   * them), so a test knows for certain that a statement ran while its reply is unseen; connections opened later
   * pass freely. `heldReplies` counts kept chunks.
   */
  holdReplies(): void;
  /** Delivers the kept replies, in order, and stops holding. */
  releaseReplies(): void;
  readonly heldReplies: number;
  /** Closes the listener and every connection. Idempotent. */
  close(): Promise<void>;
}

type Mode = "open" | "cut" | "blackhole";

interface Link {
  client: Socket;
  upstream: Socket;
  /** Set when the link was blackholed: it can never carry a consistent stream again. */
  silenced: boolean;
  /** Replies are being kept (holdReplies). */
  holding: boolean;
}

/** Rewrites a `postgres://` / `redis://` URL's host and port to the proxy's (credentials, path and query kept). */
export function proxiedUrl(url: string, proxy: Pick<TcpProxy, "host" | "port">): string {
  const parsed = new URL(url);
  parsed.hostname = proxy.host;
  parsed.port = String(proxy.port);
  return parsed.toString();
}

export async function createProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const host = "127.0.0.1";
  const links = new Set<Link>();
  const held = new Set<Socket>(); // accepted while blackholed, never connected upstream
  let mode: Mode = "open";
  let delayMs = 0;
  let closed = false;
  let heldCount = 0;
  /** Per reply stream: delivers what it kept. */
  const releasers = new Set<() => void>();

  /** Forwards `from` → `to`, through an ordered queue when delayed, honouring backpressure. */
  const forward = (link: Link, from: Socket, to: Socket, replies: boolean) => {
    const queue: { due: number; chunk: Buffer }[] = [];
    const held: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let draining = false;
    const write = (chunk: Buffer) => {
      if (link.silenced || to.destroyed) return;
      if (!to.write(chunk) && !draining) {
        draining = true;
        from.pause();
        to.once("drain", () => {
          draining = false;
          from.resume();
        });
      }
    };
    const pump = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) write(queue.shift()!.chunk);
      const next = queue[0];
      if (next) timer = setTimeout(pump, Math.max(0, next.due - now));
    };
    if (replies) {
      const release = () => {
        for (const chunk of held.splice(0)) write(chunk);
      };
      releasers.add(release);
      from.on("close", () => releasers.delete(release));
    }
    from.on("data", (chunk: Buffer) => {
      if (link.silenced) return;
      if (replies && link.holding) {
        held.push(chunk);
        heldCount++;
        return;
      }
      if (delayMs === 0 && queue.length === 0) return write(chunk);
      queue.push({ due: Date.now() + delayMs, chunk });
      if (!timer) pump();
    });
    from.on("end", () => {
      // Half-close after the queued bytes have gone out.
      const finish = () => (queue.length > 0 ? setTimeout(finish, 1) : to.end());
      finish();
    });
    from.on("close", () => {
      if (timer) clearTimeout(timer);
      queue.length = 0;
    });
  };

  const server = createServer({ pauseOnConnect: false }, (client) => {
    client.on("error", () => {});
    if (mode === "cut" || closed) return void client.resetAndDestroy();
    if (mode === "blackhole") {
      held.add(client);
      client.on("close", () => held.delete(client));
      client.on("data", () => {}); // read and drop, so the client's writes never block
      return;
    }
    const upstream = new Socket();
    const link: Link = { client, upstream, silenced: false, holding: false };
    links.add(link);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    const drop = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", drop);
    upstream.on("close", drop);
    forward(link, client, upstream, false);
    forward(link, upstream, client, true);
    upstream.connect(target.port, target.host);
  });
  server.on("error", () => {});

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no TCP address");

  return {
    host,
    port: address.port,
    get connections() {
      return links.size + held.size;
    },
    cut() {
      mode = "cut";
      for (const link of links) {
        link.client.resetAndDestroy();
        link.upstream.destroy();
      }
      for (const socket of held) socket.resetAndDestroy();
    },
    blackhole() {
      mode = "blackhole";
      for (const link of links) link.silenced = true;
    },
    restore() {
      if (mode === "blackhole") {
        for (const link of links) {
          if (!link.silenced) continue;
          link.client.destroy();
          link.upstream.destroy();
        }
        for (const socket of held) socket.destroy();
      }
      mode = "open";
    },
    holdReplies() {
      for (const link of links) link.holding = true;
    },
    releaseReplies() {
      for (const link of links) link.holding = false;
      heldCount = 0;
      for (const release of releasers) release();
    },
    get heldReplies() {
      return heldCount;
    },
    delay(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay must be >= 0 ms, got ${ms}`);
      delayMs = ms;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy in front of the server of a postgres:// or redis:// url (default ports 5432 and 6379). */
export function proxyTo(url: string): Promise<TcpProxy> {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol.startsWith("redis") ? 6379 : 5432;
  return createProxy({ host: parsed.hostname, port: Number(parsed.port || defaultPort) });
}
