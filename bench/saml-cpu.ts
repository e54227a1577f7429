/**
 * SAML login CPU per operation, warm: the real ACS handler (middy chain, validation,
 * provisioning, session, audit, logs and metrics; in-memory repositories) against
 * samlify's `parseLoginResponse` alone and node-saml's `validatePostResponseAsync` alone,
 * on the same signed responses: assertion-signed, response-signed, both.
 *
 * Every response is signed before anything is timed, with a fresh assertion ID (the ACS
 * refuses a replay); each contender gets the same response for the same index. The user
 * is a returning one (the common login), created during the warm-up.
 */
import samlify from 'samlify';
import { createAcsHandler } from '../functions/acs.js';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys, type SignMode } from '../local/saml-idp.js';
import { systemClock } from '../shared/clock.js';
import { parseSamlResponseXml } from '../shared/saml/structure.js';
import { orgUrls, type OrgUrls } from '../shared/settings/urls.js';
import { createMemoryRepositories } from '../shared/storage/memory.js';
import { figuresOf, inputsNeeded, interleave, type CpuFigures, type InterleavedOptions, type Operation } from './stats.js';
import { apiEvent, benchRuntime, lambdaContext, nodeSamlFor, seedOrg } from './support.js';

export const SAML_VARIANTS = ['assertion', 'response', 'both'] as const satisfies readonly SignMode[];
export type SamlVariant = (typeof SAML_VARIANTS)[number];
export const SAML_CONTENDERS = ['acs', 'samlify', 'nodeSaml'] as const;
export type SamlContender = (typeof SAML_CONTENDERS)[number];

const BASE_URL = 'https://sso.bench.example';
const ORG_ID = 'bench-saml';
const USER = 'ada@bench-saml.example';
/** The org's clock skew (the settings default), given to every contender. */
const CLOCK_SKEW_SECONDS = 60;
/** Long enough that no response expires during the run (the contenders read the real clock). */
const LIFETIME_SECONDS = 3600;
const HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export type SamlCpuResult = Record<SamlVariant, Record<SamlContender, CpuFigures>>;

function signResponses(idp: SamlIdpKeys, urls: OrgUrls, sign: SignMode, count: number): string[] {
  return Array.from({ length: count }, () =>
    buildSignedLoginResponse({
      idp,
      sign,
      spEntityId: urls.spEntityId,
      acsUrl: urls.acsUrl,
      nameId: USER,
      attributes: { groups: ['Engineering'], firstName: 'Ada', lastName: 'Lovelace' },
      lifetimeSeconds: LIFETIME_SECONDS,
    }),
  );
}

/** The real handler on a runtime with the in-memory repositories, one org, the system clock. */
async function acsContender(idp: SamlIdpKeys): Promise<(responses: string[]) => Operation> {
  const rt = benchRuntime({ baseUrl: BASE_URL, clock: systemClock, overrides: { repositories: createMemoryRepositories(systemClock) } });
  await seedOrg(rt, {
    orgId: ORG_ID,
    sso: { enabled: true, protocol: 'saml', saml: { idpEntityId: idp.entityId, certificates: [idp.certificatePem], clockSkewSeconds: CLOCK_SKEW_SECONDS } },
    mappings: { Engineering: 'account-admin' },
    onNoRoleMatch: 'deny',
  });
  const handler = createAcsHandler(rt);
  return (responses) => {
    const events = responses.map((SAMLResponse) =>
      apiEvent({ method: 'POST', route: '/sso/{orgId}/saml/acs', pathParameters: { orgId: ORG_ID }, form: { SAMLResponse, RelayState: '/me' } }),
    );
    return async (index) => {
      const result = await handler(events[index]!, lambdaContext);
      if (result.statusCode !== 302) throw new Error(`ACS answered ${result.statusCode}: ${result.body}`);
    };
  };
}

/**
 * samlify's own login flow. It insists on a schema validator: it gets the service's
 * structural guard (a DOM parse plus structural checks), the lightest honest stand-in
 * for the XSD validation samlify's documentation suggests.
 */
function samlifyContender(idp: SamlIdpKeys, urls: OrgUrls): (responses: string[]) => Operation {
  samlify.setSchemaValidator({ validate: async (xml: string) => (parseSamlResponseXml(xml), 'valid') });
  const sp = samlify.ServiceProvider({
    entityID: urls.spEntityId,
    assertionConsumerService: [{ Binding: HTTP_POST, Location: urls.acsUrl }],
    clockDrifts: [-CLOCK_SKEW_SECONDS * 1000, CLOCK_SKEW_SECONDS * 1000],
  });
  const from = samlify.IdentityProvider({
    entityID: idp.entityId,
    signingCert: idp.certificatePem,
    // Required by samlify's entity, never used: nothing is sent to the IdP.
    singleSignOnService: [{ Binding: HTTP_REDIRECT, Location: 'https://idp.invalid/sso' }],
    singleLogoutService: [{ Binding: HTTP_REDIRECT, Location: 'https://idp.invalid/slo' }],
  });
  return (responses) => async (index) => {
    await sp.parseLoginResponse(from, 'post', { body: { SAMLResponse: responses[index]! } });
  };
}

/** node-saml as an integrator would configure it for this SP: signatures required where the variant has them. */
function nodeSamlContender(idp: SamlIdpKeys, urls: OrgUrls, variant: SamlVariant): (responses: string[]) => Operation {
  const saml = nodeSamlFor(idp, urls, { assertion: variant !== 'response', response: variant !== 'assertion' }, CLOCK_SKEW_SECONDS);
  return (responses) => async (index) => {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: responses[index]! });
    if (profile?.nameID !== USER) throw new Error('node-saml returned no profile');
  };
}

/** Measures every contender on every variant in one interleaved run. */
export async function benchSamlCpu(options: InterleavedOptions): Promise<SamlCpuResult> {
  const idp = await createSamlIdpKeys('https://idp.bench.example/saml');
  const urls = orgUrls(BASE_URL, ORG_ID);
  const acs = await acsContender(idp);
  const samlifyFor = samlifyContender(idp, urls);
  const contenders: Record<string, Operation> = {};
  for (const variant of SAML_VARIANTS) {
    const responses = signResponses(idp, urls, variant, inputsNeeded(options));
    contenders[`${variant}/acs`] = acs(responses);
    contenders[`${variant}/samlify`] = samlifyFor(responses);
    contenders[`${variant}/nodeSaml`] = nodeSamlContender(idp, urls, variant)(responses);
  }
  const samples = await interleave(contenders, options);
  const figures = (variant: SamlVariant) =>
    Object.fromEntries(SAML_CONTENDERS.map((contender) => [contender, figuresOf(samples[`${variant}/${contender}`]!)])) as Record<SamlContender, CpuFigures>;
  return { assertion: figures('assertion'), response: figures('response'), both: figures('both') };
}
