/**
 * The `DailyCheck` function, invoked once a day by an EventBridge schedule (no HTTP
 * route): for every org, the IdP metadata refresh (where enabled), the certificate
 * expiry warnings and the verified domains' re-check (shared/settings/daily-check.ts).
 * It publishes `IdpCertificateDaysLeft` per org and for the whole service (the smallest,
 * which the alarm watches), and `SpCertificateDaysLeft`: the days left of whichever SP
 * certificate, signing or encryption, expires first. An org whose check fails is
 * logged and the others go on; the invocation then fails, so the function's error alarm
 * fires and EventBridge retries.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { X509Certificate } from 'node:crypto';
import { spEncryptionKey } from '../shared/saml/sp-keys.js';
import { dailyCheck, type OrgCheck } from '../shared/settings/daily-check.js';
import { METRIC } from './observability.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

/** Orgs checked at once: each may wait up to 5 s on an IdP's metadata URL. */
const CONCURRENCY = 8;
const DAY_MS = 24 * 60 * 60 * 1000;
const ACTOR = { type: 'system', id: 'daily-check' } as const;

export interface DailyCheckSummary {
  orgs: number;
  failedOrgs: string[];
  metadataChanged: number;
  certificatesWarned: number;
  domainsUnverified: number;
  minIdpCertificateDaysLeft?: number;
  /** The smaller of the two below: what `SpCertificateDaysLeft` publishes. */
  spCertificateDaysLeft?: number;
  spSigningCertificateDaysLeft?: number;
  /** The certificate IdPs encrypt to (the signing one for a key pair stored before encryption existed). */
  spEncryptionCertificateDaysLeft?: number;
}

export function createDailyCheckHandler(rt: Runtime) {
  return async (): Promise<DailyCheckSummary> => {
    const summary: DailyCheckSummary = { orgs: 0, failedOrgs: [], metadataChanged: 0, certificatesWarned: 0, domainsUnverified: 0 };
    const record = (check: OrgCheck) => {
      if (check.metadata.outcome === 'changed') summary.metadataChanged += 1;
      summary.certificatesWarned += check.certificates.filter((certificate) => certificate.warnedNow).length;
      summary.domainsUnverified += check.domains.filter((domain) => domain.outcome === 'gone').length;
      if (check.certificates.length === 0) return;
      const least = Math.min(...check.certificates.map((certificate) => certificate.daysLeft));
      summary.minIdpCertificateDaysLeft = Math.min(summary.minIdpCertificateDaysLeft ?? least, least);
      const perOrg = rt.metrics.singleMetric();
      perOrg.addDimension('orgId', check.orgId);
      perOrg.addMetric(METRIC.idpCertificateDaysLeft, MetricUnit.Count, least);
    };

    const running = new Set<Promise<void>>();
    for await (const orgId of rt.settingsRepository.orgIds()) {
      summary.orgs += 1;
      const task = dailyCheck(rt, orgId, ACTOR)
        .then(record)
        .catch((error: unknown) => {
          summary.failedOrgs.push(orgId);
          rt.logger.error('the daily check of an org failed', { orgId, error: error as Error });
        })
        .finally(() => running.delete(task));
      running.add(task);
      if (running.size >= CONCURRENCY) await Promise.race(running);
    }
    await Promise.all(running);

    if (summary.minIdpCertificateDaysLeft !== undefined) rt.metrics.singleMetric().addMetric(METRIC.idpCertificateDaysLeft, MetricUnit.Count, summary.minIdpCertificateDaysLeft);
    const spKey = await rt.spKeys.load();
    if (spKey) {
      const daysLeft = (pem: string) => Math.floor((new X509Certificate(pem).validToDate.getTime() - rt.clock.now().getTime()) / DAY_MS);
      summary.spSigningCertificateDaysLeft = daysLeft(spKey.certificatePem);
      summary.spEncryptionCertificateDaysLeft = daysLeft(spEncryptionKey(spKey).certificatePem);
      // One metric, the alarm's: whichever SP certificate (signing or encryption) expires first.
      summary.spCertificateDaysLeft = Math.min(summary.spSigningCertificateDaysLeft, summary.spEncryptionCertificateDaysLeft);
      rt.metrics.singleMetric().addMetric(METRIC.spCertificateDaysLeft, MetricUnit.Count, summary.spCertificateDaysLeft);
    }
    rt.logger.info('daily check done', { ...summary });
    if (summary.failedOrgs.length > 0) throw new Error(`the daily check failed for ${summary.failedOrgs.length} org(s): ${summary.failedOrgs.join(', ')}`);
    return summary;
  };
}

export const handler = lazyHandler(() => createDailyCheckHandler(runtime(FUNCTIONS.dailyCheck)));
