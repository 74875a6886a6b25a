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
