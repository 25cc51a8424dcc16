import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                ADMIN_PASSWORD: "test-password",
                ENCRYPTION_KEY: "test-encryption-key-0123456789",
                ALLOW_LOCAL_DOWNSTREAM: "on",
                DEMO_SERVER: "off",
                // Small enough that test/integration/concurrency.test.ts can fill the queue cheaply.
                MAX_QUEUED_EXECUTIONS: "40",
                // Far above what the tests run, which use one account for many executions at once;
                // test/integration/rate-limits.test.ts applies small limits to its own sessions.
                EXECUTIONS_PER_MINUTE: "100000",
                MAX_CONCURRENT_EXECUTIONS_PER_USER: "1000",
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["src/**/*.test.ts", "test/integration/**/*.test.ts"],
          setupFiles: ["./test/integration/apply-migrations.ts"],
          // Loopback DoH and redirect servers for test/integration/outbound-policy.test.ts.
          globalSetup: ["./test/unit/support/workers-global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // Some tests bound how long a stalled program takes to answer; on a loaded 2-core CI
          // machine one run can miss its bound. A second failure is a real one.
          retry: 1,
        },
      },
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // A group of its own, so never beside the other projects (vitest runs projects in
          // parallel unless told): on a 2-core machine the workerd test pool starved the wrangler
          // dev processes these tests start and restart, and the native-work tests of
          // sandbox-limits.test.ts timed out waiting for the runtime's restart.
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // As in the workers project: timing bounds under wrangler dev on a loaded machine.
          retry: 1,
        },
      },
    ],
  },
});
