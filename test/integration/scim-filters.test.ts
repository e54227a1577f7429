/**
 * SCIM lists (API.md "Filters", RFC 7644 §3.4.2): every operator, and/or/not and
 * parentheses, the attributes API.md names, `userName eq` as one indexed Query, paging
 * over more users than one page, `.search`, and `400 invalidFilter`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRoundTrips } from '../support/dynamodb.js';
import { createScimOrg, scimUser, type ScimOrg } from '../support/scim.js';
import { startTestService, type TestService } from '../support/service.js';

let service: TestService;
let org: ScimOrg;
/** userName → id of the users made below. */
const ids = new Map<string, string>();

const PEOPLE = [
  { userName: 'alice@acme.test', externalId: 'ext-alice', active: true, emails: [{ value: 'alice@acme.test', type: 'work', primary: true }], name: { givenName: 'Alice' } },
  { userName: 'Bob@Acme.test', externalId: 'ext-bob', active: false, emails: [{ value: 'bob@acme.test', type: 'work' }, { value: 'bobby@home.test', type: 'home' }] },
  { userName: 'carol@other.test', externalId: 'ext-carol', active: true },
  { userName: 'dave', externalId: 'EXT-DAVE', active: true },
];

beforeAll(async () => {
  service = await startTestService();
  org = await createScimOrg(service);
  for (const person of PEOPLE) {
    const response = await org.scim('POST', '/Users', scimUser(person.userName, person));
    expect(response.status).toBe(201);
    ids.set(person.userName, response.body.id);
  }
});
afterAll(async () => {
  await service?.close();
});

/** The userNames a filter finds (the org admin, made by `org create`, included when it matches). */
async function find(filter: string): Promise<string[]> {
  const response = await org.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
  return response.body.Resources.map((resource: { userName: string }) => resource.userName).sort();
}

describe('filter operators', () => {
  it.each([
    ['userName eq "ALICE@acme.test"', ['alice@acme.test']],
    ['userName ne "alice@acme.test" and userName ew "acme.test"', ['Bob@Acme.test']],
    ['userName co "other"', ['carol@other.test']],
    ['userName sw "da"', ['dave']],
    ['userName ew "@OTHER.test"', ['carol@other.test']],
    ['userName gt "carol" and userName lt "z"', ['carol@other.test', 'dave']],
    ['userName ge "dave" and userName le "dave"', ['dave']],
    ['externalId pr and externalId sw "ext-"', ['Bob@Acme.test', 'alice@acme.test', 'carol@other.test']],
    ['externalId eq "EXT-DAVE"', ['dave']],
    ['externalId eq "ext-dave"', []],
    ['active eq false', ['Bob@Acme.test']],
    ['active eq "False"', ['Bob@Acme.test']],
    ['emails.value eq "bobby@home.test"', ['Bob@Acme.test']],
    ['emails[type eq "home"]', ['Bob@Acme.test']],
    ['emails[type eq "work" and value co "alice"]', ['alice@acme.test']],
    ['name.givenName eq "alice"', ['alice@acme.test']],
    ['not (userName co "acme") and externalId pr', ['carol@other.test', 'dave']],
    ['(userName eq "dave" or userName eq "carol@other.test") and active eq true', ['carol@other.test', 'dave']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "dave"', ['dave']],
  ])('%s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it('filters by id and by meta.lastModified', async () => {
    expect(await find(`id eq "${ids.get('dave')}"`)).toEqual(['dave']);
    const future = new Date(service.clock.now().getTime() + 3_600_000).toISOString();
    expect(await find(`meta.lastModified gt "${future}"`)).toEqual([]);
    expect((await find(`meta.lastModified le "${future}" and externalId pr`)).length).toBe(4);
  });

  it.each(['userName eq', 'nickName eq "x"', 'userName xx "a"', 'active gt true', 'emails[nope eq "x"]'])('refuses %s with 400 invalidFilter', async (filter) => {
    const response = await org.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('answers userName eq with one Query of the userName index, never a read of the org', async () => {
    await find('userName eq "dave"'); // settings cache warm
    const trips = countRoundTrips(service.db.client);
    expect(await find('userName eq "Dave"')).toEqual(['dave']);
    // The token's read, then one Query.
    expect(trips.commands()).toEqual(['GetItemCommand', 'QueryCommand']);
  });
});

describe('paging', () => {
  it('pages over more users than one page with startIndex and count', async () => {
    const paging = await createScimOrg(service);
    const total = 230; // more than one page of 200 (maxResults)
    const made: string[] = [];
    for (let start = 0; start < total; start += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, index) => paging.scim('POST', '/Users', scimUser(`p${String(start + index).padStart(3, '0')}@page.test`))),
      );
      for (const response of batch) made.push(response.body.userName);
    }
    const all: string[] = [];
    for (let startIndex = 1; ; startIndex += 100) {
      const page = await paging.scim('GET', `/Users?filter=${encodeURIComponent('userName ew "@page.test"')}&startIndex=${startIndex}&count=100`);
      expect(page.body).toMatchObject({ totalResults: total, startIndex });
      all.push(...page.body.Resources.map((resource: { userName: string }) => resource.userName));
      if (page.body.itemsPerPage < 100) break;
    }
    expect(all.length).toBe(total);
    expect(new Set(all)).toEqual(new Set(made));
    const unfiltered = await paging.scim('GET', '/Users');
    expect(unfiltered.body).toMatchObject({ totalResults: total + 1, itemsPerPage: 200, startIndex: 1 });
    const count0 = await paging.scim('GET', '/Users?count=0');
    expect(count0.body).toMatchObject({ totalResults: total + 1, itemsPerPage: 0, Resources: [] });
  });
});

describe('POST .search', () => {
  it('takes a SearchRequest with filter, paging and attributes on /Users/.search', async () => {
    const response = await org.scim('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'externalId sw "ext-"',
      startIndex: 2,
      count: 1,
      attributes: ['userName'],
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(Object.keys(response.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });

  it('searches Users and Groups together at the root', async () => {
    const group = await org.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Searchers' });
    expect(group.status).toBe(201);
    const response = await org.scim('POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'id eq "' + group.body.id + '"' });
    expect(response.status).toBe(200);
    expect(response.body.Resources).toEqual([expect.objectContaining({ id: group.body.id, displayName: 'Searchers' })]);
  });
});
