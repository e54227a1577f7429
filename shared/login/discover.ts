/**
 * Email discovery: which org's sign-in an email belongs to, by an existing user with
 * that email or by the org that claimed the email's domain. Both lookups always run,
 * and an org is always read, so a caller learns no more than the answer itself says.
 * Domains are claimed first come, first served (`409 CONFLICT` after): proving a
 * domain's ownership (a DNS record) is not done yet.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { ssoUsable } from '../settings/settings-service.js';
import { parseInput } from '../settings/validation.js';
import type { SettingsRepository } from '../settings/ports.js';
import type { UserRepository } from '../users/ports.js';
import { normalizeEmail } from '../users/model.js';
import { safeRedirect } from './redirect.js';

export interface DiscoverDeps {
  users: UserRepository;
  settingsRepository: SettingsRepository;
  baseUrl: string;
}

export const discoverInputSchema = z.strictObject({
  email: z.email('must be an email address').max(320),
  fwd: z.string().max(2048).optional().describe('where to land after signing in (a relative path); default /'),
});

const noSso = () => new AppError('NO_SSO_FOR_EMAIL', 'No single sign-on is set up for this email address. Sign in another way, or ask your administrator.');

/**
 * The SP-initiated login URL for an email.
 * @throws AppError `VALIDATION_FAILED`, `RELAY_STATE_INVALID` (fwd), `NO_SSO_FOR_EMAIL`
 */
export async function discoverLogin(deps: DiscoverDeps, input: unknown): Promise<{ loginUrl: string }> {
  const { email: raw, fwd = '/' } = parseInput(discoverInputSchema, input);
  safeRedirect(fwd, deps.baseUrl);
  const email = normalizeEmail(raw);
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const [userOrgs, domainOrg] = await Promise.all([deps.users.orgsForEmail(email), deps.settingsRepository.orgForDomain(domain)]);
  // The org that claimed the domain decides; without one, only an email that has a user in
  // exactly one org. Several orgs with a copy of the email (another org's JIT user, say)
  // must not be able to draw its owner into their sign-in.
  const orgId = domainOrg ?? (userOrgs.length === 1 ? userOrgs[0] : undefined);
  // Read straight from the table, found or not: known and unknown emails cost the same work.
  const settings = await deps.settingsRepository.load(orgId ?? '-');
  if (!orgId || !settings || !ssoUsable(settings.sso)) throw noSso();
  const url = new URL(`${deps.baseUrl}/sso/${encodeURIComponent(orgId)}/login`);
  url.searchParams.set('fwd', fwd);
  return { loginUrl: url.toString() };
}
