#!/usr/bin/env node
// `npx sso-jit …`: runs the TypeScript CLI through tsx (a devDependency of the checkout).
import { register } from 'tsx/esm/api';

register();
process.env.SSO_JIT_CLI = '1';
await import('./sso-jit.ts');
