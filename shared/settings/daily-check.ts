/**
 * The daily check of an org's SSO connection (API.md "SAML as enterprises run it"), run
 * by the scheduled `DailyCheck` function for every org and by `sso-jit metadata refresh`
 * for one:
 *
 * 1. **Metadata refresh** (`saml.metadataRefresh.enabled`, or asked for): re-fetches
 *    `saml.idpMetadataUrl` under the SSRF rules of metadata-fetch.ts. A fetch that fails,
 *    or yields nothing usable, keeps the last good metadata and says why in
 *    `metadataError`. Endpoint changes (`ssoUrl`, `sloUrl`) are applied; trust changes
 *    (`certificates`, `idpEntityId`) only with `applyCertificateChanges`, else held back.
 *    A refresh that finds a change is a `settings.sso.metadata_refreshed` event with the
 *    certificate fingerprints before and after, and what was applied or held back.
 * 2. **Certificate expiry**: the days left of each IdP certificate (the function
 *    publishes the org's smallest as the `IdpCertificateDaysLeft` metric); a certificate
 *    within 30 days of `notAfter` gets one `settings.sso.certificate_expiring` event.
 * 3. **Verified domains**: re-checked (domains.ts).
 *
 * Each step reads the settings afresh and writes on that version; an admin's change
 * landing in between makes the step read again once.
 */
import { newAuditEvent, type AuditActor, type AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import { daysLeft, EXPIRY_WARNING_DAYS, certificateInfo, fingerprintOf } from './certificates.js';
import { recheckVerifiedDomains, type DomainRecheck, type TxtResolver } from './domains.js';
import { parseIdpMetadata, type IdpMetadata } from './idp-metadata.js';
import type { IdpMetadataFetcher } from './metadata-fetch.js';
import type { SettingsRepository } from './ports.js';
import type { OrgSettings, SamlSettings } from './model.js';

export interface DailyCheckDeps {
  settingsRepository: SettingsRepository;
  clock: Clock;
  ids: IdGenerator;
  fetchIdpMetadata: IdpMetadataFetcher;
  resolveTxt: TxtResolver;
}

export type MetadataRefresh =
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'failed'; error: string }
  | { outcome: 'unchanged' }
  | { outcome: 'changed'; applied: string[]; heldBack: string[] };

export interface CertificateCheck {
  fingerprintSha256: string;
  notAfter: string;
  daysLeft: number;
  /** True when this check wrote the certificate's `certificate_expiring` event. */
  warnedNow: boolean;
}

export interface OrgCheck {
  orgId: string;
  metadata: MetadataRefresh;
  certificates: CertificateCheck[];
  domains: DomainRecheck[];
}

async function load(deps: Pick<DailyCheckDeps, 'settingsRepository'>, orgId: string): Promise<OrgSettings> {
  const settings = await deps.settingsRepository.load(orgId);
  if (!settings) throw new AppError('ORG_NOT_FOUND', `No organization ${orgId}.`);
  return settings;
}

/** Runs `step` on fresh settings; once more when an admin's write landed in between. */
async function onFreshSettings<T>(deps: DailyCheckDeps, orgId: string, step: (settings: OrgSettings) => Promise<T>): Promise<T> {
  try {
    return await step(await load(deps, orgId));
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'PRECONDITION_FAILED')) throw error;
    return step(await load(deps, orgId));
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value) => b.includes(value));

/**
 * Re-fetches the org's IdP metadata.
 * @param options.force refresh even when the org's schedule is off (the CLI)
 */
export async function refreshIdpMetadata(deps: DailyCheckDeps, orgId: string, actor: AuditActor, options: { force?: boolean } = {}): Promise<MetadataRefresh> {
  return onFreshSettings(deps, orgId, async (settings) => {
    const saml = settings.sso.saml;
    if (!saml?.idpMetadataUrl) return { outcome: 'skipped', reason: 'no metadata URL' };
    if (!options.force && !saml.metadataRefresh?.enabled) return { outcome: 'skipped', reason: 'refresh not enabled' };
    const now = deps.clock.now().toISOString();
    const write = (next: SamlSettings, events: AuditEvent[]) =>
      deps.settingsRepository.apply(orgId, { sso: { ...settings.sso, saml: next } }, events, { ifVersion: settings.version });

    let metadata: IdpMetadata;
    try {
      metadata = parseIdpMetadata(await deps.fetchIdpMetadata(saml.idpMetadataUrl));
    } catch (error) {
      if (!(error instanceof AppError && (error.code === 'METADATA_FETCH_FAILED' || error.code === 'VALIDATION_FAILED'))) throw error;
      const why = error.message.replace(/^saml\.(metadataXml|idpMetadataUrl):\s*/, '');
      // The last good metadata stays; the failure is recorded once until it changes.
      if (saml.metadataError !== why) {
        await write({ ...saml, metadataError: why }, [
          newAuditEvent(deps, {
            orgId,
            type: 'settings.sso.metadata_refreshed',
            outcome: 'failure',
            code: 'METADATA_FETCH_FAILED',
            actor,
            target: { type: 'settings', id: 'sso' },
            details: { url: saml.idpMetadataUrl, error: why, kept: 'the last good metadata' },
          }),
        ]);
      }
      return { outcome: 'failed', error: why };
    }

    const applied: string[] = [];
    const heldBack: string[] = [];
    const next: SamlSettings = { ...saml, metadataFetchedAt: now };
    delete next.metadataError;
    if (metadata.ssoUrl !== undefined && metadata.ssoUrl !== saml.ssoUrl) {
      next.ssoUrl = metadata.ssoUrl;
      applied.push('ssoUrl');
    }
    // Single logout moves like sign-in does: an endpoint, not trust (API.md "Metadata URL").
    if (metadata.sloUrl !== undefined && metadata.sloUrl !== saml.sloUrl) {
      next.sloUrl = metadata.sloUrl;
      applied.push('sloUrl');
    }
    const before = saml.certificates.map(fingerprintOf);
    const after = metadata.certificates.map(fingerprintOf);
    const trust = [...(sameSet(before, after) ? [] : ['certificates']), ...(metadata.idpEntityId === saml.idpEntityId ? [] : ['idpEntityId'])];
    if (saml.metadataRefresh?.applyCertificateChanges) {
      if (trust.includes('certificates')) next.certificates = metadata.certificates;
      if (trust.includes('idpEntityId')) next.idpEntityId = metadata.idpEntityId;
      applied.push(...trust);
    } else {
      heldBack.push(...trust);
    }
    const changed = applied.length > 0 || heldBack.length > 0;
    const events = changed
      ? [
          newAuditEvent(deps, {
            orgId,
            type: 'settings.sso.metadata_refreshed',
            actor,
            target: { type: 'settings', id: 'sso' },
            details: {
              url: saml.idpMetadataUrl,
              applied,
              heldBack,
              fingerprintsBefore: before,
              fingerprintsAfter: after,
              ...(heldBack.length > 0 ? { why: 'certificate and entity ID changes are applied only with metadataRefresh.applyCertificateChanges' } : {}),
            },
          }),
        ]
      : [];
    await write(next, events);
    return changed ? { outcome: 'changed', applied, heldBack } : { outcome: 'unchanged' };
  });
}

/** The days left of the org's IdP certificates; one `certificate_expiring` event per certificate within 30 days. */
export async function checkCertificateExpiry(deps: DailyCheckDeps, orgId: string, actor: AuditActor): Promise<CertificateCheck[]> {
  return onFreshSettings(deps, orgId, async (settings) => {
    const saml = settings.sso.saml;
    if (!saml) return [];
    const now = deps.clock.now();
    const warned = new Set(saml.expiryWarned ?? []);
    const checks = saml.certificates.map((pem): CertificateCheck => {
      const info = certificateInfo(pem, now);
      const warnNow = daysLeft(pem, now) <= EXPIRY_WARNING_DAYS && !warned.has(info.fingerprintSha256);
      return { fingerprintSha256: info.fingerprintSha256, notAfter: info.notAfter, daysLeft: daysLeft(pem, now), warnedNow: warnNow };
    });
    const toWarn = checks.filter((check) => check.warnedNow);
    if (toWarn.length > 0) {
      const events = toWarn.map((check) =>
        newAuditEvent(deps, {
          orgId,
          type: 'settings.sso.certificate_expiring',
          outcome: 'failure',
          actor,
          target: { type: 'settings', id: 'sso' },
          details: {
            fingerprintSha256: check.fingerprintSha256,
            notAfter: check.notAfter,
            daysLeft: check.daysLeft,
            fix: check.daysLeft < 0 ? 'it has expired and no longer verifies: add the IdP’s new certificate' : 'add the IdP’s new certificate before this one expires',
          },
        }),
      );
      const expiryWarned = [...warned, ...toWarn.map((check) => check.fingerprintSha256)];
      await deps.settingsRepository.apply(orgId, { sso: { ...settings.sso, saml: { ...saml, expiryWarned } } }, events, { ifVersion: settings.version });
    }
    return checks;
  });
}

/** The whole daily check of one org: metadata, then certificates (of the refreshed metadata), then domains. */
export async function dailyCheck(deps: DailyCheckDeps, orgId: string, actor: AuditActor, options: { forceMetadata?: boolean } = {}): Promise<OrgCheck> {
  const metadata = await refreshIdpMetadata(deps, orgId, actor, { force: options.forceMetadata });
  const certificates = await checkCertificateExpiry(deps, orgId, actor);
  const domains = await recheckVerifiedDomains(deps, orgId, actor);
  return { orgId, metadata, certificates, domains };
}
