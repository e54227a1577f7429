/**
 * Memory (and so CPU: Lambda allots CPU in proportion to memory) of each function.
 *
 * The figures come from `npm run bench` (CPU per warm login and cold-start init time per
 * bundle) and are revisited with it whenever a handler's work changes: the two login
 * callbacks are CPU-bound (XML canonicalisation and signature checks, JWT verification)
 * on every login, so they get the CPU of 1024 MB, where a CPU-bound invocation costs
 * about the same GB-seconds as at 512 MB in half the time; settings validates and seals
 * OIDC client secrets (512 MB); the others read an item or render a small document,
 * and Console serves files it holds in memory (256 MB).
 *
 * Reserved and provisioned concurrency are deliberately not set: every function draws
 * from the account's regional concurrency pool (1,000 by default; README "Scaling
 * limits").
 */
import type { FUNCTIONS } from '../functions/routes.js';

/** The `id` of every entry of `FUNCTIONS`. */
export type FunctionId = (typeof FUNCTIONS)[keyof typeof FUNCTIONS]['id'];

/** Memory in MB, by function id; a function added to `FUNCTIONS` stops this compiling until it has a figure. */
export const FUNCTION_MEMORY_MB: Readonly<Record<FunctionId, number>> = {
  Acs: 1024,
  OidcCallback: 1024,
  Settings: 512,
  Login: 256,
  SamlMetadata: 256,
  Session: 256,
  Console: 256,
  DailyCheck: 256,
  // SCIM: JSON in and out, filters and PATCH evaluated in memory over a page of users;
  // an initial sync pushes thousands of creates, so the CPU of 512 MB.
  Scim: 512,
};
