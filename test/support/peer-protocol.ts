/**
 * The child side of a peer process (the *-peer.ts scripts a test spawns): one JSON request per stdin line,
 * `{ seq, op, args }`, each answered on stdout with `{ seq, ok: true, value }` or `{ seq, ok: false, error }`;
 * `{ ready: true }` once it serves. Answers go out as requests settle, so requests may overlap.
 */
import { createInterface } from "node:readline";

export function servePeer<A>(handle: (op: string, args: A) => Promise<unknown>): void {
  const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    const request = JSON.parse(line) as { seq: number; op: string; args: A };
    handle(request.op, request.args).then(
      (value) => send({ seq: request.seq, ok: true, value }),
      (error: unknown) => send({ seq: request.seq, ok: false, error: String(error) }),
    );
  });
  send({ ready: true });
}
