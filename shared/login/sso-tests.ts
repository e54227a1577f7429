/**
 * Test sign-in (docs/console.md "Test sign-in"): a real SP-initiated login in test mode.
 * The IdP is asked exactly as for a real login and its answer is validated exactly as at
 * the ACS or the OIDC callback (signature, issuer, audience, times, InResponseTo or
 * state, browser binding, single use, replay marker), then what the current settings
 * would do is computed without writing: no user is created or changed, no session is
 * issued, no `login.succeeded`/`login.failed` is written. The result is kept an hour for
 * the admin (or setup session) who started the test, and audited as `login.tested`.
 *
 * A test runs whether or not SSO is enabled (checking a connection before turning it on
 * is what it is for); it needs a configured connection of the org's protocol, and the
 * result says whether SSO is enabled (`ssoEnabled`).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditActor, AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError, LoginError } from '../errors.js';
import { extractEmail, extractRoleValues } from '../provisioning/attributes.js';
import type { AssertedIdentity } from '../provisioning/identity.js';
import { planLogin, recordedAttributeNames } from '../provisioning/plan-login.js';
import type { ValidatedAssertion } from '../saml/validate-response.js';
import type { OrgSettings } from '../settings/model.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { parseInput } from '../settings/validation.js';
import { CommitConflict, type ReplayMarker, type UserRepository } from '../users/ports.js';
import type { LoginStateRepository, PendingLogin, PendingLoginRef, SsoTest, SsoTestRepository, TestResult } from './ports.js';
import { validateOrgSamlResponse } from './saml-validation.js';
import { prepareLogin, sameBrowser, type StartLoginDeps } from './start-login.js';

/** How long a finished test's result is kept. */
export const SSO_TEST_RESULT_TTL_MS = 3600_000;
/** Where the browser lands after the IdP answered a test: the console's result page. */
export const ssoTestPagePath = (testId: string): string => `/console/sso/tests/${encodeURIComponent(testId)}`;

/**
 * A test's AuthnRequest ID: like a login's (160 random bits) but marked, so the ACS can
 * tell from the RelayState, before anything else, that the answer is a test's. The mark
 * only routes: the stored pending login decides, and the signed InResponseTo must match.
 */
export const newTestRequestId = (): string => `_t${randomBytes(20).toString('hex')}`;
export const isTestRequestId = (value: string | undefined): value is string => value !== undefined && /^_t[0-9a-f]{40}$/.test(value);

const MAX_ATTRIBUTES = 200;
const MAX_VALUES = 100;
const MAX_VALUE_CHARS = 4096;

export const ssoTestInputSchema = z.strictObject({});

export interface SsoTestDeps extends Pick<StartLoginDeps, 'clock' | 'baseUrl' | 'spKeys' | 'oidcDiscovery'> {
  ssoTests: SsoTestRepository;
  loginState: LoginStateRepository;
  settings: SettingsCache;
  users: UserRepository;
  ids: IdGenerator;
  clock: Clock;
  logger?: { warn(message: string, extra: Record<string, unknown>): void };
}

/** What the ACS or the OIDC callback answers for a test: where to send the browser (no session). */
export interface TestAnswered {
  test: { id: string };
  location: string;
}

/** The public shape of a test (docs/console.md). */
export interface SsoTestView {
  id: string;
  status: SsoTest['status'];
  startedAt: string;
  completedAt?: string;
  protocol: SsoTest['protocol'];
  result?: TestResult;
}

const notConfigured = (protocol: 'saml' | 'oidc') =>
  `The ${protocol === 'saml' ? 'SAML' : 'OpenID Connect'} connection is not configured: set it up in the SSO settings before testing it.`;

/**
 * Starts a test sign-in for the org's configured connection, bound to `startedBy` and to
 * the browser whose binding value is `browser`.
 * @throws AppError `VALIDATION_FAILED` (body), `CONFLICT` (no connection configured, or SAML without an SSO URL)
 */
export async function startSsoTest(
  deps: SsoTestDeps,
  context: { settings: OrgSettings; startedBy: AuditActor; browser: string },
  input: unknown,
): Promise<{ id: string; loginUrl: string }> {
  parseInput(ssoTestInputSchema, input);
  const { settings } = context;
  const { protocol } = settings.sso;
  if (!settings.sso[protocol]) throw new AppError('CONFLICT', notConfigured(protocol));
  if (protocol === 'saml' && !settings.sso.saml!.ssoUrl) {
    throw new AppError('CONFLICT', "A test sign-in starts at the identity provider's SSO URL: add it to the SAML settings first.");
  }
  const id = deps.ids.newId();
  const { pending, url } = await prepareLogin(deps, settings, {
    fwd: ssoTestPagePath(id),
    browser: context.browser,
    ...(protocol === 'saml' ? { requestId: newTestRequestId() } : {}),
    test: { id },
  });
  const test: SsoTest = {
    id,
    orgId: settings.org.id,
    protocol,
    startedBy: context.startedBy,
    startedAt: deps.clock.now().toISOString(),
    status: 'pending',
    // Unanswered, it goes with its pending login.
    expiresAt: pending.expiresAt,
  };
  await deps.ssoTests.start(test, pending);
  return { id, loginUrl: url };
}

/**
 * A test, for the one who started it only: anyone else gets the same `404` as for a
 * test that does not exist.
 * @throws AppError `NOT_FOUND`
 */
export async function getSsoTest(deps: Pick<SsoTestDeps, 'ssoTests'>, orgId: string, reader: AuditActor, id: string): Promise<SsoTestView> {
  const test = await deps.ssoTests.get(orgId, id);
  if (!test || test.startedBy.type !== reader.type || test.startedBy.id !== reader.id) throw new AppError('NOT_FOUND', 'No such test sign-in (they are kept for an hour).');
  const { id: testId, status, startedAt, completedAt, protocol, result } = test;
  return { id: testId, status, startedAt, ...(completedAt ? { completedAt } : {}), protocol, ...(result ? { result } : {}) };
}

/** Refuses the org's connection when it is not of `protocol` or not configured; `enabled` is not required. */
function requireConnection(settings: OrgSettings, protocol: 'saml' | 'oidc'): void {
  const { sso } = settings;
  if (sso.protocol !== protocol || !sso[protocol]) {
    throw new LoginError('SSO_NOT_ENABLED', notConfigured(protocol), { details: { expected: { protocol }, received: { protocol: sso.protocol } } });
  }
}

function attributeList(list: readonly { name: string; values: readonly string[] }[]): Pick<TestResult, 'attributes' | 'attributesTruncated'> {
  let truncated = list.length > MAX_ATTRIBUTES;
  const attributes = list.slice(0, MAX_ATTRIBUTES).map(({ name, values }) => {
    if (values.length > MAX_VALUES || name.length > MAX_VALUE_CHARS || values.some((value) => value.length > MAX_VALUE_CHARS)) truncated = true;
    return { name: name.slice(0, MAX_VALUE_CHARS), values: values.slice(0, MAX_VALUES).map((value) => value.slice(0, MAX_VALUE_CHARS)) };
  });
  return truncated ? { attributes, attributesTruncated: true } : { attributes };
}

/** What the IdP said, as a test result shows it. */
function samlFacts(assertion: ValidatedAssertion): Partial<TestResult> {
  const iso = (date: Date | undefined) => date?.toISOString();
  const session = {
    authnInstant: iso(assertion.authnInstant),
    notBefore: iso(assertion.conditions.notBefore),
    notOnOrAfter: iso(assertion.conditions.notOnOrAfter),
    sessionIndex: assertion.sessionIndex,
  };
  return {
    issuer: assertion.issuer,
    nameId: assertion.nameId,
    ...(assertion.nameIdFormat === undefined ? {} : { nameIdFormat: assertion.nameIdFormat }),
    ...attributeList(assertion.attributeList),
    session: Object.fromEntries(Object.entries(session).filter(([, value]) => value !== undefined)),
  };
}

function oidcFacts(identity: AssertedIdentity): Partial<TestResult> {
  return { issuer: identity.issuer, sub: identity.subject, ...attributeList([...identity.attributes].map(([name, values]) => ({ name, values }))) };
}

/**
 * What a real login of `identity` would do under `settings`: planned exactly as at the
 * ACS, never committed.
 * @throws LoginError the refusal a real login would get
 */
async function wouldDo(deps: Pick<SsoTestDeps, 'users' | 'clock' | 'ids'>, settings: OrgSettings, identity: AssertedIdentity): Promise<NonNullable<TestResult['wouldDo']>> {
  const email = extractEmail(identity, settings.provisioning.jit);
  const existing = await deps.users.findByEmail(settings.org.id, email);
  const plan = planLogin({ settings, identity, email, existing, now: deps.clock.now(), ids: deps.ids });
  const { firstName, lastName, assignments } = plan.user;
  return {
    action: plan.created ? 'create' : 'update',
    email,
    ...(existing ? { userId: existing.id } : {}),
    ...(firstName === undefined ? {} : { firstName }),
    ...(lastName === undefined ? {} : { lastName }),
    assignments,
  };
}

function failureOf(error: AppError): NonNullable<TestResult['error']> {
  const { expected, received } = error.details;
  return { code: error.code, message: error.message, ...(expected === undefined ? {} : { expected }), ...(received === undefined ? {} : { received }) };
}

/** What a test found out about the IdP's answer so far: the facts to report, the identity once verified. */
interface Findings {
  facts: Partial<TestResult>;
  identity?: AssertedIdentity;
}

/**
 * Runs `check` (validation, then planning) and turns its outcome into a result. Only
 * refusals (`LoginError`) become results; anything else is thrown.
 */
async function decide(
  settings: OrgSettings,
  check: (found: Findings) => Promise<NonNullable<TestResult['wouldDo']>>,
): Promise<{ result: TestResult; identity?: AssertedIdentity }> {
  const found: Findings = { facts: {} };
  const ssoEnabled = settings.sso.enabled;
  try {
    const done = await check(found);
    return { result: { outcome: 'success', ...found.facts, ssoEnabled, wouldDo: done }, identity: found.identity };
  } catch (error) {
    // Refusals are what a test reports; a fault (DynamoDB, KMS) is no answer about the connection.
    if (!(error instanceof LoginError)) throw error;
    return { result: { outcome: 'failure', ...found.facts, ssoEnabled, error: failureOf(error) }, identity: found.identity };
  }
}

/** The `login.tested` event of a finished test. */
function testedEvent(deps: Pick<SsoTestDeps, 'ids'>, test: SsoTest, result: TestResult, identity: AssertedIdentity | undefined, settings: OrgSettings, at: string): AuditEvent {
  const { error } = result;
  return {
    id: deps.ids.newId(),
    orgId: test.orgId,
    at,
    type: 'login.tested',
    outcome: result.outcome,
    ...(error ? { code: error.code } : {}),
    actor: test.startedBy,
    target: { type: 'sso-test', id: test.id },
    details: {
      protocol: test.protocol,
      issuer: result.issuer ?? null,
      subject: result.nameId ?? result.sub ?? null,
      ...(result.attributes ? { attributeNames: recordedAttributeNames({ attributes: new Map(result.attributes.map((attribute) => [attribute.name, attribute.values])) }) } : {}),
      ...(identity ? { roleValues: extractRoleValues(identity, settings.provisioning.jit)?.slice(0, 20) ?? null } : {}),
      ssoEnabled: result.ssoEnabled,
      ...(result.wouldDo ? { wouldDo: { action: result.wouldDo.action, email: result.wouldDo.email, assignments: result.wouldDo.assignments } } : {}),
      ...(error ? { message: error.message, expected: error.expected ?? null, received: error.received ?? null } : {}),
    },
  };
}

/**
 * Stores the finished test with its event, consuming the pending login and recording
 * the replay marker. An assertion already used elsewhere makes the test fail with
 * `ASSERTION_REPLAYED` (and is not recorded twice).
 * @throws CommitConflict `pending-used` when the pending login was answered meanwhile
 */
async function finish(
  deps: SsoTestDeps,
  test: SsoTest,
  settings: OrgSettings,
  decided: { result: TestResult; identity?: AssertedIdentity },
  options: { consume?: PendingLoginRef; replay?: ReplayMarker },
): Promise<TestAnswered> {
  const now = deps.clock.now();
  const store = async (result: TestResult, replay: ReplayMarker | undefined) => {
    const done: SsoTest = { ...test, status: 'done', completedAt: now.toISOString(), result, expiresAt: new Date(now.getTime() + SSO_TEST_RESULT_TTL_MS) };
    await deps.ssoTests.complete(done, { consume: options.consume, replay, events: [testedEvent(deps, done, result, decided.identity, settings, now.toISOString())] });
  };
  try {
    await store(decided.result, options.replay);
  } catch (error) {
    if (!(error instanceof CommitConflict && error.reason === 'replayed')) throw error;
    const replayed = new LoginError('ASSERTION_REPLAYED', 'This sign-in response was already used. Start the test again.');
    const { wouldDo: _done, ...facts } = decided.result;
    await store({ ...facts, outcome: 'failure', error: failureOf(replayed) }, undefined);
  }
  return { test: { id: test.id }, location: `${deps.baseUrl}${ssoTestPagePath(test.id)}` };
}

const unknownTestRequest = (received: unknown) =>
  new LoginError('IN_RESPONSE_TO_INVALID', 'This sign-in response answers a request this service did not make, or one already used or expired. Start the sign-in again.', {
    details: { expected: 'a pending test sign-in of this organization, in this browser', received },
  });

export interface SamlTestInput {
  orgId: string;
  samlResponse: string | undefined;
  /** A test request id (`isTestRequestId`). */
  relayState: string;
  browser?: string;
}

/**
 * The ACS for the answer to a test sign-in. Refused without a result when no pending
 * test of this org, started in this browser, has this request id; otherwise validated
 * and planned, with the outcome stored as the test's result.
 * @throws LoginError `IN_RESPONSE_TO_INVALID`; AppError `ORG_NOT_FOUND`
 */
export async function answerSamlTest(deps: SsoTestDeps, input: SamlTestInput): Promise<TestAnswered> {
  const ref: PendingLoginRef = { orgId: input.orgId, protocol: 'saml', id: input.relayState };
  const [pending, settings] = await Promise.all([deps.loginState.peek(ref), deps.settings.reload(input.orgId)]);
  // Someone else's test, or none: the answer belongs to no test, so there is nothing to report on.
  if (!pending?.test || pending.protocol !== 'saml' || !sameBrowser(pending, input.browser)) throw unknownTestRequest(input.relayState);
  const test = await deps.ssoTests.get(input.orgId, pending.test.id);
  if (!test) throw unknownTestRequest(input.relayState);

  let assertion: ValidatedAssertion | undefined;
  const decided = await decide(settings, async (found) => {
    requireConnection(settings, 'saml');
    const saml = settings.sso.saml!;
    if (!input.samlResponse) throw new LoginError('SAML_MALFORMED', 'The sign-in request carries no SAMLResponse.');
    assertion = await validateOrgSamlResponse(deps, input.orgId, saml, input.samlResponse);
    found.facts = samlFacts(assertion);
    const identity: AssertedIdentity = {
      protocol: 'saml',
      issuer: assertion.issuer,
      subject: assertion.nameId,
      ...(assertion.nameIdFormat === undefined ? {} : { subjectFormat: assertion.nameIdFormat }),
      attributes: assertion.attributes,
    };
    found.identity = identity;
    // The signed InResponseTo must name this very request (the RelayState only routed here).
    if (assertion.inResponseTo !== pending.id) {
      throw new LoginError('IN_RESPONSE_TO_INVALID', 'The SAML response does not answer the test sign-in request (its InResponseTo differs).', {
        details: { expected: pending.id, received: assertion.inResponseTo ?? null },
      });
    }
    return wouldDo(deps, settings, identity);
  });
  // A validated assertion is spent, whatever the plan said: it never signs anyone in later.
  const validated = assertion as ValidatedAssertion | undefined;
  const replay = validated ? { orgId: input.orgId, id: validated.assertionId, expiresAt: validated.notOnOrAfter } : undefined;
  try {
    return await finish(deps, test, settings, decided, { consume: ref, replay });
  } catch (error) {
    if (error instanceof CommitConflict && error.reason === 'pending-used') throw unknownTestRequest(input.relayState);
    throw error;
  }
}

/**
 * The OIDC callback for a test sign-in whose state the caller has already taken (spent)
 * and checked to be this org's and this browser's. `exchange` trades the code for a
 * verified identity exactly as a real login does.
 * @throws LoginError `STATE_INVALID` when the test itself is gone
 */
export async function answerOidcTest(
  deps: SsoTestDeps,
  input: { orgId: string; iss?: string },
  pending: PendingLogin,
  exchange: (settings: OrgSettings) => Promise<AssertedIdentity>,
  stateInvalid: (received: unknown) => LoginError,
): Promise<TestAnswered> {
  const [settings, test] = await Promise.all([deps.settings.reload(input.orgId), deps.ssoTests.get(input.orgId, pending.test!.id)]);
  if (!test) throw stateInvalid('a test sign-in that expired');
  const decided = await decide(settings, async (found) => {
    requireConnection(settings, 'oidc');
    const oidc = settings.sso.oidc!;
    // As at the real callback: the state was made for this issuer, and the response names no other (mix-up).
    if (pending.issuer !== oidc.issuer || (input.iss !== undefined && input.iss !== pending.issuer) || !pending.nonce || !pending.codeVerifier) {
      throw stateInvalid({ issuer: input.iss ?? pending.issuer });
    }
    const identity = await exchange(settings);
    found.facts = oidcFacts(identity);
    found.identity = identity;
    return wouldDo(deps, settings, identity);
  });
  return finish(deps, test, settings, decided, {});
}
