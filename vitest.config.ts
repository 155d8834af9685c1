import { defineConfig } from "vitest/config";

// Suites start real processes (the kernel, its executor, farm workers) over real sockets,
// so they get generous time-outs; the machines are shared and have two cores.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
