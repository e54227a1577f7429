/**
 * DynamoDB stops answering in the middle of a burst of first logins: a DynamoDB Local of
 * this file's own is paused (SIGSTOP) while logins are in flight and resumed a few seconds
 * later. Every login answers 302 or 503, none hangs or fails otherwise, and whatever
 * landed is whole: every user has their assignments and exactly one creation event, and
 * no creation event names a user who does not exist.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb.js';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import type { DynamoDbLimits } from '../../shared/config.js';
import { createSamlOrg, postAcs, startTestService, type SamlOrg, type TestService } from '../support/service.js';

/** A faulted DynamoDB call ends within about two seconds; a refused login (read, then the failure's audit write) within about four. */
const LIMITS: DynamoDbLimits = { connectTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 2 };
/** Longer than a refused login takes, so the logins in flight when DynamoDB stops meet the outage. */
const PAUSE_MS = 3_500;
const LOGINS = 32;
const CONCURRENCY = 8;
/** DynamoDB stops once this many logins have answered. */
const PAUSE_AFTER = 8;

let dynamodb: DynamoDbLocal;
let service: TestService;
let org: SamlOrg;
let paused = false;

const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
  if (dynamodb.pid === undefined) throw new Error('DynamoDB Local has no process id');
  process.kill(dynamodb.pid, name);
  paused = name === 'SIGSTOP';
};

beforeAll(async () => {
  dynamodb = await startDynamoDbLocal();
  service = await startTestService({ dynamodb: { endpoint: dynamodb.endpoint, limits: LIMITS } });
  org = await createSamlOrg(service);
});
afterAll(async () => {
  if (dynamodb && paused) signal('SIGCONT');
  await service?.close();
  await dynamodb?.stop();
});

it('answers every first login of a burst 302 or 503 when DynamoDB stops mid-burst, and leaves every user whole', async () => {
  const logins = Array.from({ length: LOGINS }, (_, index) => {
    const email = `burst-${index}@acme.test`;
    const SAMLResponse = buildSignedLoginResponse({
      idp: org.idp,
      spEntityId: org.urls.spEntityId,
      acsUrl: org.urls.acsUrl,
      nameId: email,
      attributes: { groups: ['Admins'] },
      now: service.clock.now(),
    });
    return { email, SAMLResponse };
  });
  /** Each login's answer: `302`, or the status and error code. */
  const answers = new Map<string, string>();
  let resumed: Promise<void> | undefined;
  const queue = [...logins];
  const worker = async (): Promise<void> => {
    for (let login = queue.shift(); login; login = queue.shift()) {
      const response = await postAcs(service, org.orgId, { SAMLResponse: login.SAMLResponse });
      const body = await response.text();
      answers.set(login.email, response.status === 302 ? '302' : `${response.status} ${(JSON.parse(body) as { error: { code: string } }).error.code}`);
      if (answers.size === PAUSE_AFTER) {
        signal('SIGSTOP');
        resumed = new Promise((done) => setTimeout(done, PAUSE_MS)).then(() => signal('SIGCONT'));
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    await resumed;
  }

  expect(answers.size).toBe(LOGINS);
  expect(new Set(answers.values())).toEqual(new Set(['302', '503 SERVICE_UNAVAILABLE']));
  const users = (await service.rt.users.list(org.orgId, { jit: true, limit: 500 })).items;
  const created = (await service.rt.audit.list(org.orgId, { type: 'user.jit_created', limit: 500 })).items;
  for (const [email, answer] of answers) {
    if (answer === '302') expect(users.some((user) => user.email === email), `${email} signed in but does not exist`).toBe(true);
  }
  for (const user of users) {
    expect(user.assignments, `${user.email}'s assignments`).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    expect(created.filter((event) => event.target?.id === user.id), `${user.email}'s creation events`).toHaveLength(1);
  }
  // Read after the events, so a user created in between cannot look like a missing one.
  for (const event of created) {
    expect(await service.rt.users.findById(org.orgId, event.target!.id), `the user of creation event ${event.id}`).toBeDefined();
  }
});
