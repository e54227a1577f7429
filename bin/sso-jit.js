#!/usr/bin/env node
// `npx sso-jit …`: runs the TypeScript CLI (bin/cli.ts) through tsx, a devDependency of the checkout.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('./cli.ts');
await run(process.argv.slice(2));
