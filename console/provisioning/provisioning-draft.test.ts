import { describe, expect, it } from 'vitest';
import type { ProvisioningSettings } from '../api/types.js';
import {
  draftFromSettings,
  emptyRow,
  mappingsBody,
  mappingsChanged,
  provisioningBody,
  provisioningChanged,
  rowsFromMappings,
} from './provisioning-draft.js';

const settings = (): ProvisioningSettings => ({
  method: 'jit',
  jit: {
    roleSource: 'idp',
    roleAttribute: 'groups',
    onNoRoleMatch: 'deny',
    attributes: { email: ['emailAddress'], firstName: 'firstName' },
    defaultGroupId: 'default',
    defaultRoleId: 'regular-user',
  },
});

describe('provisioningBody', () => {
  it('gives back the document when nothing was edited', () => {
    expect(provisioningBody(settings(), draftFromSettings(settings()))).toEqual(settings());
    expect(provisioningChanged(settings(), draftFromSettings(settings()))).toBe(false);
  });

  it('turns JIT off and keeps its configuration', () => {
    const draft = { ...draftFromSettings(settings()), method: 'manual' as const };
    expect(provisioningBody(settings(), draft)).toEqual({ ...settings(), method: 'manual' });
  });

  it('leaves out emptied attribute names so the server defaults apply', () => {
    const draft = { ...draftFromSettings(settings()), emailAttributes: ' \n', firstNameAttribute: '', lastNameAttribute: ' surname ' };
    expect(provisioningBody(settings(), draft).jit.attributes).toEqual({ lastName: 'surname' });
  });

  it('reads email attributes one per line, in order', () => {
    const draft = { ...draftFromSettings(settings()), emailAttributes: 'mail\n\n upn \n' };
    expect(provisioningBody(settings(), draft).jit.attributes.email).toEqual(['mail', 'upn']);
  });

  it('leaves out an empty role attribute', () => {
    const draft = { ...draftFromSettings(settings()), roleSource: 'app' as const, roleAttribute: '' };
    expect('roleAttribute' in provisioningBody(settings(), draft).jit).toBe(false);
  });
});

describe('mapping rows', () => {
  const items = [{ id: 'm1', roleId: 'organization-admin', groupIds: ['default'], idpValue: ' Admins' }, { id: 'm2', roleId: 'regular-user', groupIds: ['default', 'eu'] }];

  it('round-trip without ids and keep an IdP value exactly as typed', () => {
    expect(mappingsBody(rowsFromMappings(items))).toEqual([
      { roleId: 'organization-admin', groupIds: ['default'], idpValue: ' Admins' },
      { roleId: 'regular-user', groupIds: ['default', 'eu'] },
    ]);
    expect(mappingsChanged(items, rowsFromMappings(items))).toBe(false);
  });

  it('notice an added row', () => {
    expect(mappingsChanged(items, [...rowsFromMappings(items), emptyRow()])).toBe(true);
  });

  it('give every row its own key', () => {
    const rows = [...rowsFromMappings(items), emptyRow()];
    expect(new Set(rows.map((row) => row.key)).size).toBe(3);
  });
});
