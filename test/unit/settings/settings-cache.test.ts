import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../shared/clock.js';
import { BUILT_IN_ROLES, DEFAULT_GROUP, defaultProvisioningSettings, defaultSsoSettings, type OrgSettings } from '../../../shared/settings/model.js';
import { SettingsCache } from '../../../shared/settings/settings-cache.js';
import type { SettingsRepository } from '../../../shared/settings/ports.js';

const settings: OrgSettings = {
  org: { id: 'acme', name: 'Acme', createdAt: '2026-01-01T00:00:00.000Z' },
  sso: defaultSsoSettings(),
  provisioning: defaultProvisioningSettings(),
  roles: [...BUILT_IN_ROLES],
  groups: [DEFAULT_GROUP],
  roleMappings: [],
  version: '1',
};

/** A repository that counts its loads and answers only for `acme`. */
function countingRepository() {
  const counter = { loads: 0 };
  const repository = {
    load: async (orgId: string) => {
      counter.loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return orgId === 'acme' ? settings : undefined;
    },
  } as unknown as SettingsRepository;
  return { repository, counter };
}

describe('SettingsCache', () => {
  it('shares one load between concurrent misses of one org', async () => {
    const { repository, counter } = countingRepository();
    const cache = new SettingsCache(repository, fixedClock('2026-01-01T00:00:00Z'));

    const results = await Promise.all(Array.from({ length: 10 }, () => cache.get('acme')));

    expect(results.every((result) => result === settings)).toBe(true);
    expect(counter.loads).toBe(1);
  });

  it('keeps settings for the TTL and reloads after it', async () => {
    const { repository, counter } = countingRepository();
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const cache = new SettingsCache(repository, clock, 5_000);
    await cache.get('acme');

    clock.advance(4_999);
    await cache.get('acme');
    clock.advance(2);
    await cache.get('acme');

    expect(counter.loads).toBe(2);
  });

  it('answers an unknown org with ORG_NOT_FOUND and does not cache the miss', async () => {
    const { repository, counter } = countingRepository();
    const cache = new SettingsCache(repository, fixedClock('2026-01-01T00:00:00Z'));

    await expect(cache.get('nope')).rejects.toMatchObject({ code: 'ORG_NOT_FOUND', status: 404 });
    await expect(cache.get('nope')).rejects.toMatchObject({ code: 'ORG_NOT_FOUND' });
    expect(counter.loads).toBe(2);
  });
});
