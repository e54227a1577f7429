/**
 * Profiling driver (not part of `npm run bench`): the real ACS handler in process, on the
 * in-memory repositories, warm, for a returning user. The V8 profiler runs only around
 * the measured logins (responses are signed and the handler warmed up before), and the
 * profile is written to the path given; summarise it with bench/profile/summary.ts:
 *
 *   npx tsx bench/profile/acs.ts /tmp/acs.cpuprofile [logins] [assertion|response|both]
 *   npx tsx bench/profile/summary.ts /tmp/acs.cpuprofile
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createAcsHandler } from '../../functions/acs.js';
import { buildSignedLoginResponse, createSamlIdpKeys, type SignMode } from '../../local/saml-idp.js';
import { systemClock } from '../../shared/clock.js';
import { orgUrls } from '../../shared/settings/urls.js';
import { createMemoryRepositories } from '../../shared/storage/memory.js';
import { apiEvent, benchRuntime, lambdaContext, seedOrg } from '../support.js';

const BASE_URL = 'https://sso.bench.example';
const ORG_ID = 'bench-profile';
const out = process.argv[2] ?? 'acs.cpuprofile';
const logins = Number(process.argv[3] ?? 2000);
const sign = (process.argv[4] ?? 'assertion') as SignMode;
const WARMUP = 100;

const idp = await createSamlIdpKeys('https://idp.bench.example/saml');
const urls = orgUrls(BASE_URL, ORG_ID);
const rt = benchRuntime({ baseUrl: BASE_URL, clock: systemClock, overrides: { repositories: createMemoryRepositories(systemClock) } });
await seedOrg(rt, {
  orgId: ORG_ID,
  sso: { enabled: true, protocol: 'saml', saml: { idpEntityId: idp.entityId, certificates: [idp.certificatePem] } },
  mappings: { Engineering: 'account-admin' },
  onNoRoleMatch: 'deny',
});
const handler = createAcsHandler(rt);
const events = Array.from({ length: WARMUP + logins }, () =>
  apiEvent({
    method: 'POST',
    route: '/sso/{orgId}/saml/acs',
    pathParameters: { orgId: ORG_ID },
    form: {
      SAMLResponse: buildSignedLoginResponse({ idp, sign, spEntityId: urls.spEntityId, acsUrl: urls.acsUrl, nameId: 'ada@bench.example', attributes: { groups: ['Engineering'], firstName: 'Ada', lastName: 'Lovelace' }, lifetimeSeconds: 3600 }),
      RelayState: '/me',
    },
  }),
);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
let measured = process.cpuUsage();
for (const [index, event] of events.entries()) {
  if (index === WARMUP) {
    await session.post('Profiler.start');
    measured = process.cpuUsage();
  }
  const result = await handler(event, lambdaContext);
  if (result.statusCode !== 302) throw new Error(`ACS answered ${result.statusCode}: ${result.body}`);
}
const used = process.cpuUsage(measured);
const { profile } = await session.post('Profiler.stop');
await writeFile(out, JSON.stringify(profile));
process.stderr.write(`${logins} warm logins (${sign}-signed): ${((used.user + used.system) / 1000 / logins).toFixed(3)} ms CPU each\n`);
