/**
 * tags: invalidate groups of entries without knowing their keys — everything about one user, one tenant, one
 * product. `invalidateTags` costs one write per tag (a version bump), never a key scan; entries are checked against
 * their tags' versions when read. `clear()` empties one cache the same way. Run with `just run`.
 */
import { createRuntime, silentLogger } from "../../../src/index.js";
import { cacheEngine } from "../shared/cache-engine.js";

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`tags recipe: ${message}`);
}

const engine = cacheEngine("tags");
console.log(`engine: ${engine.label}`);
const runtime = createRuntime({
  modules: [engine.module({ pages: { ttl: "10m" }, other: {} })],
  logger: silentLogger,
});
await runtime.start();
try {
  const pages = runtime.cache("pages");
  let renders = 0;
  const render = (path: string, tags: string[]) =>
    pages.getOrSet(path, () => `<html>${path} #${++renders}</html>`, { tags });

  const paths: Array<[string, string[]]> = [];
  for (let user = 1; user <= 3; user++) {
    for (const page of ["profile", "orders", "settings"])
      paths.push([`/u/${user}/${page}`, [`user:${user}`, `page:${page}`]]);
  }
  for (const [path, tags] of paths) await render(path, tags);
  for (const [path, tags] of paths) await render(path, tags);
  console.log(`9 pages rendered, read twice → renders=${renders}`);
  check(renders === 9, "second reads were hits");

  const t0 = performance.now();
  await pages.invalidateTags(["user:2"]);
  console.log(`invalidateTags(["user:2"]) in ${(performance.now() - t0).toFixed(1)}ms (one version bump, no scan)`);
  const misses = (await pages.getMany(paths.map(([p]) => p))).filter((v) => v === undefined).length;
  console.log(`→ ${misses} of 9 pages are misses: user 2's`);
  check(misses === 3, "exactly user 2's pages");

  await pages.invalidateTags(["page:orders"]);
  const afterOrders = (await pages.getMany(paths.map(([p]) => p))).filter((v) => v === undefined).length;
  console.log(`invalidateTags(["page:orders"]) → ${afterOrders} of 9 misses (user 2's 3, plus 2 other orders pages)`);
  check(afterOrders === 5, "orders pages too");

  const other = runtime.cache("other");
  await other.set("kept", 1);
  await pages.clear();
  const left = (await pages.getMany(paths.map(([p]) => p))).filter((v) => v !== undefined).length;
  console.log(`pages.clear() → ${left} pages left; the other cache keeps its entry: ${await other.get("kept")}`);
  check(left === 0 && (await other.get("kept")) === 1, "clear is per cache");
  console.log(`stats: ${JSON.stringify(pages.stats())}`);
} finally {
  await runtime.stop();
  await engine.cleanup();
}
