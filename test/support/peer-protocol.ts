/**
 * The child side of a peer process (the *-peer.ts scripts a test spawns): one JSON request per stdin line,
 * `{ seq, op, args }`, each answered on stdout with `{ seq, ok: true, value }` or `{ seq, ok: false, error }`;
 * `{ ready: true }` once it serves. Answers go out as requests settle, so requests may overlap. `stop` is served here:
 * the peer's own `stop` (its runtime and pools), then the process exits once the answer is out.
 */
import { createInterface } from "node:readline";

export function servePeer<A>(handle: (op: string, args: A) => Promise<unknown>, stop: () => Promise<void>): void {
  const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const stopping = async () => {
    await stop();
    setImmediate(() => process.exit(0));
    return null;
  };
  createInterface({ input: process.stdin }).on("line", (line) => {
    const request = JSON.parse(line) as { seq: number; op: string; args: A };
    (request.op === "stop" ? stopping() : handle(request.op, request.args)).then(
      (value) => send({ seq: request.seq, ok: true, value }),
      (error: unknown) => send({ seq: request.seq, ok: false, error: String(error) }),
    );
  });
  send({ ready: true });
}
