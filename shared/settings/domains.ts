/**
 * Verified domains (API.md "SAML as enterprises run it", "Verified domains"). An org
 * lists email domains in `domains`; a domain routes `POST /login/discover` to the org
 * only after the org proved it owns it, by publishing a TXT record we name:
 *
 *   _sso-jit-challenge.acme.com  TXT  "sso-jit-verification=<random token>"
 *
 * Each listed domain gets its own random token when it is added; verifying looks the
 * record up and, when it is there, claims the domain for the org in the same
 * transaction that records the proof. A domain verified by one org cannot be verified by
 * another (`409 CONFLICT`): it keeps routing to the first. The scheduled check looks
 * again; a record that is definitely gone (NXDOMAIN, no TXT) ends the routing, a DNS
 * server that does not answer changes nothing.
 */
import { newAuditEvent, type AuditActor } from '../audit/model.js';
import { randomToken, type Clock, type IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { SettingsRepository } from './ports.js';
import { domainSchema, type DomainVerification, type OrgSettings, type SsoSettings } from './model.js';

export const TXT_NAME_PREFIX = '_sso-jit-challenge.';
export const TXT_VALUE_PREFIX = 'sso-jit-verification=';

/** What DNS said about a TXT name: its records, definitely none, or no answer at all. */
export type TxtLookup = { kind: 'found'; values: string[] } | { kind: 'absent' } | { kind: 'unavailable'; reason: string };

/** Looks up the TXT records of a name (node:dns in production, a loopback server in tests). */
export type TxtResolver = (name: string) => Promise<TxtLookup>;

export interface DomainStatus {
  domain: string;
  verified: boolean;
  txtName: string;
  txtValue: string;
  verifiedAt: string | null;
}

export interface DomainDeps {
  settingsRepository: SettingsRepository;
  clock: Clock;
  ids: IdGenerator;
  resolveTxt: TxtResolver;
}

export const txtNameOf = (domain: string): string => `${TXT_NAME_PREFIX}${domain}`;
const txtValueOf = (verification: DomainVerification): string => `${TXT_VALUE_PREFIX}${verification.token}`;

/**
 * The verification state for `domains`: kept for domains still listed, a fresh token for
 * new ones, dropped for the rest.
 */
export function verificationsFor(domains: readonly string[], current: SsoSettings['domainVerification']): Record<string, DomainVerification> {
  return Object.fromEntries(domains.map((domain) => [domain, current?.[domain] ?? { token: randomToken(24) }]));
}

/** The read-only `domainStatus` of the SSO settings: one entry per listed domain. */
export function domainStatusOf(sso: SsoSettings): DomainStatus[] {
  return sso.domains.map((domain) => {
    // A domain stored before verification existed has no token yet: it shows one on the next write.
    const verification = sso.domainVerification?.[domain];
    return {
      domain,
      verified: verification?.verifiedAt !== undefined,
      txtName: txtNameOf(domain),
      txtValue: verification ? txtValueOf(verification) : '',
      verifiedAt: verification?.verifiedAt ?? null,
    };
  });
}

/** The listed domains this org has verified (those it routes, and must release when they go). */
export const verifiedDomainsOf = (sso: SsoSettings): string[] => sso.domains.filter((domain) => sso.domainVerification?.[domain]?.verifiedAt !== undefined);

async function loadOrg(deps: Pick<DomainDeps, 'settingsRepository'>, orgId: string): Promise<OrgSettings> {
  const settings = await deps.settingsRepository.load(orgId);
  if (!settings) throw new AppError('ORG_NOT_FOUND', `No organization ${orgId}.`);
  return settings;
}

/**
 * Checks the domain's TXT record and, when it carries the org's token, makes the domain
 * route to the org. Verifying a verified domain again checks it again.
 * @throws AppError `NOT_FOUND` (not in `domains`), `DOMAIN_NOT_VERIFIED` (with the TXT values found),
 *   `CONFLICT` (verified by another org), `PRECONDITION_FAILED` (the settings changed meanwhile)
 */
export async function verifyDomain(deps: DomainDeps, context: { orgId: string; actor: AuditActor }, rawDomain: string): Promise<DomainStatus> {
  const parsed = domainSchema.safeParse(rawDomain);
  const domain = parsed.success ? parsed.data : rawDomain.toLowerCase();
  const settings = await loadOrg(deps, context.orgId);
  const verification = settings.sso.domainVerification?.[domain];
  if (!parsed.success || !settings.sso.domains.includes(domain) || !verification) {
    throw new AppError('NOT_FOUND', `${rawDomain} is not one of the organization's domains: add it to domains first.`);
  }
  const expected = txtValueOf(verification);
  const lookup = await deps.resolveTxt(txtNameOf(domain));
  if (lookup.kind !== 'found' || !lookup.values.includes(expected)) {
    const found = lookup.kind === 'found' ? lookup.values : [];
    const said = lookup.kind === 'unavailable' ? `DNS did not answer (${lookup.reason})` : found.length > 0 ? `found ${found.map((value) => JSON.stringify(value)).join(', ')}` : 'found no TXT record';
    throw new AppError('DOMAIN_NOT_VERIFIED', `${txtNameOf(domain)}: expected a TXT record "${expected}", ${said}. DNS changes can take a while to be seen; try again later.`, {
      details: { expected: expected, received: found },
    });
  }
  const now = deps.clock.now().toISOString();
  const proved: DomainVerification = { ...verification, verifiedAt: verification.verifiedAt ?? now, checkedAt: now };
  const sso: SsoSettings = { ...settings.sso, domainVerification: { ...settings.sso.domainVerification, [domain]: proved } };
  const event = newAuditEvent(deps, {
    orgId: context.orgId,
    type: 'settings.sso.domain_verified',
    actor: context.actor,
    target: { type: 'settings', id: 'sso' },
    details: { domain, txtName: txtNameOf(domain) },
  });
  await deps.settingsRepository.apply(context.orgId, { sso, claimDomains: [{ domain, verifiedAt: proved.verifiedAt! }] }, [event], { ifVersion: settings.version });
  return domainStatusOf(sso).find((status) => status.domain === domain)!;
}

export interface DomainRecheck {
  domain: string;
  /** still: the record is there; gone: routing ended; unknown: DNS did not answer, nothing changed. */
  outcome: 'still' | 'gone' | 'unknown';
}

/**
 * The scheduled re-check of an org's verified domains: a record definitely gone ends the
 * domain's routing (audited); one still there, or a DNS server that does not answer,
 * changes nothing.
 */
export async function recheckVerifiedDomains(deps: DomainDeps, orgId: string, actor: AuditActor): Promise<DomainRecheck[]> {
  const settings = await loadOrg(deps, orgId);
  const verified = verifiedDomainsOf(settings.sso);
  const results = await Promise.all(
    verified.map(async (domain): Promise<DomainRecheck> => {
      const expected = txtValueOf(settings.sso.domainVerification![domain]!);
      const lookup = await deps.resolveTxt(txtNameOf(domain));
      if (lookup.kind === 'unavailable') return { domain, outcome: 'unknown' };
      return { domain, outcome: lookup.kind === 'found' && lookup.values.includes(expected) ? 'still' : 'gone' };
    }),
  );
  const gone = results.filter((result) => result.outcome === 'gone').map((result) => result.domain);
  if (gone.length > 0) {
    const now = deps.clock.now().toISOString();
    const domainVerification = { ...settings.sso.domainVerification };
    for (const domain of gone) domainVerification[domain] = { token: domainVerification[domain]!.token, checkedAt: now };
    const events = gone.map((domain) =>
      newAuditEvent(deps, {
        orgId,
        type: 'settings.sso.domain_unverified',
        outcome: 'failure',
        actor,
        target: { type: 'settings', id: 'sso' },
        details: { domain, txtName: txtNameOf(domain), reason: 'the TXT record is gone: the domain no longer routes sign-ins to this organization' },
      }),
    );
    await deps.settingsRepository.apply(orgId, { sso: { ...settings.sso, domainVerification }, releaseDomains: gone }, events, { ifVersion: settings.version });
  }
  return results;
}
