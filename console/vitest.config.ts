import { defineConfig } from 'vitest/config';

// The console's pure modules (error mapping, drafts, permissions, text helpers), in node:
// nothing here needs a DOM. `npm run test:console`.
export default defineConfig({
  test: { name: 'console', include: ['console/**/*.test.ts'], environment: 'node', root: new URL('..', import.meta.url).pathname },
});
