/**
 * SCIM filter checking and evaluation (shared/scim/filter.ts), table-driven: case rules
 * per attribute, multi-valued attributes, value filters, Entra ID's string booleans, and
 * which filters an index can answer.
 */
import { describe, expect, it } from 'vitest';
import { indexableEquality, matches, parseFilter } from '../../../shared/scim/filter.js';

const kate = {
  id: 'u1',
  userName: 'Kate@Acme.test',
  externalId: 'EXT-1',
  active: true,
  name: { givenName: 'Kate' },
  emails: [{ value: 'kate@acme.test', type: 'work', primary: true }, { value: 'k@home.test', type: 'home' }],
  meta: { created: '2026-01-01T00:00:00.000Z', lastModified: '2026-02-01T00:00:00.000Z' },
};
const group = { id: 'g1', displayName: 'Admins', members: [{ value: 'u1' }, { value: 'u2' }] };

describe('matches (User)', () => {
  it.each([
    ['userName eq "kate@acme.TEST"', true],
    ['userName ne "kate@acme.test"', false],
    ['externalId eq "ext-1"', false],
    ['externalId eq "EXT-1"', true],
    ['active eq "True"', true],
    ['active eq false', false],
    ['emails.value co "home"', true],
    ['emails eq "kate@acme.test"', true],
    ['emails[type eq "home" and value sw "k@"]', true],
    ['emails[type eq "home" and primary eq true]', false],
    ['name.givenName sw "ka"', true],
    ['displayName pr', false],
    ['not (displayName pr)', true],
    ['meta.lastModified gt "2026-01-15T00:00:00Z"', true],
    ['meta.created ge "2026-01-01T00:00:00.000Z" and meta.created lt "2026-01-01T00:00:01Z"', true],
    ['userName gt "kate@acme.tesa" and userName le "KATE@ACME.TEST"', true],
    ['userName ew ".org" or id eq "u1"', true],
    ['displayName eq null', true],
  ])('%s → %s', (filter, expected) => {
    expect(matches(parseFilter(filter, 'User'), kate)).toBe(expected);
  });
});

describe('matches (Group)', () => {
  it.each([
    ['displayName eq "Admins"', true],
    ['displayName eq "admins"', false],
    ['members.value eq "u2"', true],
    ['members eq "u3"', false],
  ])('%s → %s', (filter, expected) => {
    expect(matches(parseFilter(filter, 'Group'), group)).toBe(expected);
  });
});

describe('parseFilter refusals', () => {
  it.each(['userName eq', 'title eq "x"', 'active lt true', 'active eq "maybe"', 'meta.lastModified gt "yesterday"', 'userName eq 3', 'members eq "x"'])(
    'refuses %s with invalidFilter',
    (filter) => {
      expect(() => parseFilter(filter, 'User')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { scimType: 'invalidFilter' } }));
    },
  );
});

describe('indexableEquality', () => {
  it.each([
    ['userName eq "a"', 'a'],
    ['userName eq "a" and active eq true', 'a'],
    ['active eq true and (userName eq "b")', 'b'],
    ['userName eq "a" or userName eq "b"', undefined],
    ['not (userName eq "a")', undefined],
    ['userName sw "a"', undefined],
  ])('%s → %s', (filter, expected) => {
    expect(indexableEquality(parseFilter(filter, 'User'), 'userName')).toBe(expected);
  });
});
