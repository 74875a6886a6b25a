/** The parent side of push-peer.ts: spawn a runtime in a child process and call it. */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { PushRuntimeOptions } from "./push-runtime.js";

export interface Peer {
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Stops the runtime and waits for the process to exit (killing it if it does not). */
  stop(): Promise<void>;
  /** SIGKILLs the process (a crash: nothing is cleaned up) and waits for it to exit. */
  kill(): Promise<void>;
}

const script = join(dirname(fileURLToPath(import.meta.url)), "push-peer.ts");

/** The key/value peer (kv-push-peer.ts): a cache API runtime with L1 and push in its own process. */
export const KV_PEER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "kv-push-peer.ts");

/** The leased getOrSet peer (kv-lease-peer.ts): a cache API runtime whose getOrSet leases. */
export const KV_LEASE_PEER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "kv-lease-peer.ts");

/** `peerScript`: another peer protocol speaker beside push-peer.ts (e.g. kv-push-peer.ts), with its own options. */
export async function spawnPeer(
  options: PushRuntimeOptions | Record<string, unknown>,
  startTimeoutMs = 20_000,
  /** Another peer script speaking the same protocol (its options in the PUSH_PEER variable too). */
  peerScript = script,
): Promise<Peer> {
  const child = spawn(process.execPath, ["--import", "tsx", peerScript], {
    env: { ...process.env, PUSH_PEER: JSON.stringify(options) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let seq = 0;
  let onReady: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    const message = JSON.parse(line) as {
      ready?: boolean;
      seq?: number;
      ok?: boolean;
      value?: unknown;
      error?: string;
    };
    if (message.ready) return onReady?.();
    const waiter = pending.get(message.seq as number);
    pending.delete(message.seq as number);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(message.error));
  });
  child.once("exit", (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`peer exited (${code})`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("peer did not start in time")), startTimeoutMs);
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    child.once("exit", (code) => reject(new Error(`peer exited before ready (${code})`)));
  });
  const call = <T>(op: string, args: Record<string, unknown> = {}) => {
    const id = ++seq;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ seq: id, op, args })}\n`);
    });
  };
  return {
    call,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await Promise.race([call("stop").catch(() => {}), exited]);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
