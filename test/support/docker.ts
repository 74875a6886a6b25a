/**
 * Docker-engine probe and the testcontainers fallback (the last step of server discovery; see postgres.ts, redis.ts).
 *
 *   if (await dockerAvailable()) { const c = await startContainer({ image: "redis:7.0", port: 6379 }); … await c.stop(); }
 *
 * The probe is a raw `GET /_ping` with a short deadline: testcontainers itself can wait a long
 * time on a dead socket, and a machine without an engine must skip this step at once.
 * testcontainers is imported lazily so that files never pay for it when an engine is absent.
 */
import { existsSync } from "node:fs";
import { request } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";

/** How long the engine gets to answer `/_ping`. */
const PROBE_TIMEOUT_MS = 1_000;

type Endpoint = { socketPath: string } | { host: string; port: number };

function dockerEndpoint(): Endpoint | undefined {
  const fromEnv = process.env.DOCKER_HOST;
  if (fromEnv) {
    if (fromEnv.startsWith("unix://")) return { socketPath: fromEnv.slice("unix://".length) };
    if (fromEnv.startsWith("tcp://")) {
      const url = new URL(fromEnv.replace(/^tcp:/, "http:"));
      return { host: url.hostname, port: Number(url.port || 2375) };
    }
    return undefined;
  }
  const candidates = ["/var/run/docker.sock", join(homedir(), ".docker/run/docker.sock")];
  const socketPath = candidates.find((path) => existsSync(path));
  return socketPath ? { socketPath } : undefined;
}

let probe: Promise<boolean> | undefined;

/** Whether a Docker engine answers `/_ping` within a second. Memoised per process. */
export function dockerAvailable(): Promise<boolean> {
  probe ??= new Promise<boolean>((resolve) => {
    const endpoint = dockerEndpoint();
    if (!endpoint) return resolve(false);
    const req = request({ ...endpoint, path: "/_ping", method: "GET", timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy(new Error("docker probe timed out")));
    req.on("error", () => resolve(false));
    req.end();
  });
  return probe;
}

export interface StartedContainer {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface ContainerOptions {
  image: string;
  /** The container port to publish on a random host port. */
  port: number;
  env?: Record<string, string>;
  command?: string[];
  /** Log line that means "ready", and how many times it must appear (Postgres prints it twice). */
  readyLog?: RegExp;
  readyLogTimes?: number;
}

/** Starts one container through testcontainers (its reaper removes it if this process dies). */
export async function startContainer(options: ContainerOptions): Promise<StartedContainer> {
  const { GenericContainer, Wait } = await import("testcontainers");
  let container = new GenericContainer(options.image).withExposedPorts(options.port);
  if (options.env) container = container.withEnvironment(options.env);
  if (options.command) container = container.withCommand(options.command);
  container = container.withWaitStrategy(
    options.readyLog ? Wait.forLogMessage(options.readyLog, options.readyLogTimes ?? 1) : Wait.forListeningPorts(),
  );
  const started = await container.start();
  return {
    host: started.getHost(),
    port: started.getMappedPort(options.port),
    stop: async () => {
      await started.stop();
    },
  };
}
