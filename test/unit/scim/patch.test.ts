/**
 * PATCH normalisation and application (shared/scim/patch.ts): what Okta and Entra ID
 * send, applied through scim-patch.
 */
import { describe, expect, it } from 'vitest';
import { applyPatch, normalizeOperations } from '../../../shared/scim/patch.js';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const body = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });
const user = () => ({ userName: 'kate@acme.test', active: true, name: { givenName: 'Kate', familyName: 'Bush' }, emails: [{ value: 'kate@acme.test', type: 'work', primary: true }] });

describe('applyPatch (User)', () => {
  it.each([
    ['Okta: path-less replace of active', body({ op: 'replace', value: { active: false } }), { active: false }],
    ['Entra: "Replace" with a string boolean', body({ op: 'Replace', path: 'active', value: 'False' }), { active: false }],
    ['Entra: emails[type eq "work"].value', body({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@acme.test' }), { emails: [{ value: 'new@acme.test', type: 'work', primary: true }] }],
    ['Entra: path-less Add with dotted keys', body({ op: 'Add', value: { 'name.givenName': 'K', displayName: 'Kate B' } }), { name: { givenName: 'K', familyName: 'Bush' }, displayName: 'Kate B' }],
    ['a complex value sets only the sub-attributes given', body({ op: 'replace', value: { name: { familyName: 'B' } } }), { name: { givenName: 'Kate', familyName: 'B' } }],
    ['remove name.familyName', body({ op: 'remove', path: 'name.familyName' }), { name: { givenName: 'Kate' } }],
    ['the core schema URN prefix and another case in the path', body({ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:UserName', value: 'k@acme.test' }), { userName: 'k@acme.test' }],
    ['attributes this service does not keep are ignored', body({ op: 'replace', path: 'title', value: 'Boss' }, { op: 'add', value: { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': '7' } }), {}],
  ])('%s', (_name, patch, expected) => {
    expect(applyPatch('User', user(), patch)).toEqual({ ...user(), ...expected });
  });

  it.each([
    ['remove on active', body({ op: 'remove', path: 'active' }), 'mutability'],
    ['remove without a path', body({ op: 'remove' }), 'noTarget'],
    ['an unknown op', body({ op: 'move', path: 'userName' }), 'invalidSyntax'],
    ['no operations', body(), 'invalidSyntax'],
    ['a path-less op without an object', body({ op: 'add', value: 'x' }), 'invalidValue'],
  ])('refuses %s with 400 %s', (_name, patch, scimType) => {
    expect(() => applyPatch('User', user(), patch)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { scimType } }));
  });
});

describe('applyPatch (Group members)', () => {
  const group = () => ({ displayName: 'Admins', members: [{ value: 'u1' }, { value: 'u2' }] });

  it.each([
    ['Okta: add with display', body({ op: 'add', path: 'members', value: [{ value: 'u3', display: 'c@acme.test' }] }), ['u1', 'u2', 'u3']],
    ['Entra: Add with "$ref": null', body({ op: 'Add', path: 'members', value: [{ $ref: null, value: 'u3' }] }), ['u1', 'u2', 'u3']],
    ['Entra: Remove by value list', body({ op: 'Remove', path: 'members', value: [{ $ref: null, value: 'u1' }] }), ['u2']],
    ['remove by value filter', body({ op: 'remove', path: 'members[value eq "u2"]' }), ['u1']],
    ['a single member added without a list', body({ op: 'add', path: 'members', value: { value: 'u4' } }), ['u1', 'u2', 'u4']],
    ['replace every member', body({ op: 'replace', path: 'members', value: [{ value: 'u9' }] }), ['u9']],
  ])('%s', (_name, patch, expected) => {
    const patched = applyPatch('Group', group(), patch) as { members?: { value: string }[] };
    expect((patched.members ?? []).map((member) => member.value)).toEqual(expected);
  });

  it('drops id and unknown attributes of a path-less replace (Okta repeats the id when renaming)', () => {
    expect(normalizeOperations('Group', body({ op: 'replace', value: { id: 'g1', displayName: 'New' } }))).toEqual([{ op: 'replace', path: 'displayName', value: 'New' }]);
  });
});
