/**
 * vitest globalSetup of the browser project: the real local stack (`tsx local/start.ts`,
 * what `npm start` runs) on free ports, its printed URLs and tokens provided to every
 * test file as `inject('stack')`, stopped (process group) at teardown. When it fails to
 * start, the error carries everything it printed.
 */
import type { TestProject } from 'vitest/node';
import { startLocalStack, type StackInfo } from './support/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local stack under test: base URL, DynamoDB endpoint, demo admin token and console link. */
    stack: StackInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack();
  const { output, stop, ...info } = stack;
  project.provide('stack', info);
  return async () => {
    // What the stack printed (its errors included) helps read a failure; a green run stays quiet.
    if (project.vitest.state.getCountOfFailedTests() > 0 || process.env.BROWSER_TEST_STACK_LOG) {
      console.error(`--- local stack output ---\n${output()}`);
    }
    await stop();
  };
}
