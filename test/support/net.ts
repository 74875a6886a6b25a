/**
 * Small loopback helpers shared by the service finders: a free port, a reachability check and a
 * bounded poll. Everything here has a deadline — a support helper must never hang a test file.
 */
import { createServer, Socket } from "node:net";

/** A port the kernel says is free on `host` right now (another process may still take it first). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not read a free port"))));
    });
  });
}

/** Whether `port` on `host` can be listened on right now. */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port for a Redis Cluster node. Its cluster bus listens on port + 10,000, so that port must be free too (a
 * node whose bus port is taken exits), and at most 65,535 (a node above 55,535 refuses to start). Linux hands out
 * bind(0) ports from the lower half of its ephemeral range, so the bus port lands in the upper half, where outgoing
 * connections take theirs.
 */
export async function freeClusterPort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort(host);
    if (port <= 55_535 && (await isPortFree(port + 10_000, host))) return port;
  }
  throw new Error("found no free port whose cluster bus port (port + 10000) is free too");
}

/**
 * Sends an inline `PING` to a Redis server and resolves true on `+PONG` within `timeoutMs`.
 * Raw RESP keeps this independent of client libraries and of their reconnect loops.
 */
export function redisPing(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.connect(port, host, () => socket.write("PING\r\n"));
  });
}
