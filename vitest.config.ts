import { defineConfig } from 'vitest/config';

// Powertools Metrics writes EMF to stdout; tests that look at metrics turn it back on.
const env = { POWERTOOLS_METRICS_DISABLED: 'true' };

// Five projects, each runnable alone (`npm run test:unit` …); `npm test` runs all.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', env } },
      // The console's pure modules (error mapping, drafts, permissions, text helpers).
      { test: { name: 'console', include: ['console/**/*.test.ts'], environment: 'node', env } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          env,
          // One DynamoDB Local for the whole run; each test file creates its own tables.
          globalSetup: ['test/support/dynamodb-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          env,
          // One real local stack (tsx local/start.ts) for every file; Chromium drives the console.
          globalSetup: ['test/browser/global-setup.ts'],
          // The files share that stack and 2 cores: one file at a time.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], environment: 'node', env, testTimeout: 300_000, hookTimeout: 300_000 } },
    ],
  },
});
