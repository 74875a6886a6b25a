import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each own a database and often a private redis-server; 2 cores → modest parallelism.
    maxWorkers: 2,
  },
});
