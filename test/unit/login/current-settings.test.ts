import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../shared/clock.js';
import { AppError, LoginError } from '../../../shared/errors.js';
import { decideOnCurrentSettings } from '../../../shared/login/current-settings.js';
import { BUILT_IN_ROLES, DEFAULT_GROUP, defaultProvisioningSettings, defaultSsoSettings, type OrgSettings } from '../../../shared/settings/model.js';
import type { SettingsRepository } from '../../../shared/settings/ports.js';
import { SettingsCache } from '../../../shared/settings/settings-cache.js';
import { CommitConflict } from '../../../shared/users/ports.js';

const at = (version: string): OrgSettings => ({
  org: { id: 'acme', name: 'Acme', createdAt: '2026-01-01T00:00:00.000Z' },
  sso: defaultSsoSettings(),
  provisioning: defaultProvisioningSettings(),
  roles: [...BUILT_IN_ROLES],
  groups: [DEFAULT_GROUP],
  roleMappings: [],
  version,
});

/** A cache over a repository whose stored version the test moves; it counts reads. */
function cacheOver(initial: string) {
  const stored = { version: initial, reads: 0 };
  const repository = { load: async () => (stored.reads++, at(stored.version)) } as unknown as SettingsRepository;
  return { cache: new SettingsCache(repository, fixedClock('2026-01-01T00:00:00Z'), 60_000), stored };
}

const noRecord = async () => {};

describe('decideOnCurrentSettings', () => {
  it('decides once, on the cached settings, when nothing changed', async () => {
    const { cache, stored } = cacheOver('1');
    await cache.get('acme');

    const versions: string[] = [];
    await decideOnCurrentSettings(cache, 'acme', async (settings) => void versions.push(settings.version), noRecord);

    expect(versions).toEqual(['1']);
    expect(stored.reads).toBe(1);
  });

  it('plans again on settings read now when the commit finds them changed', async () => {
    const { cache, stored } = cacheOver('1');
    await cache.get('acme');
    stored.version = '2';

    const versions: string[] = [];
    const result = await decideOnCurrentSettings(
      cache,
      'acme',
      async (settings) => {
        versions.push(settings.version);
        if (settings.version === '1') throw new CommitConflict('settings-changed');
        return 'signed in';
      },
      noRecord,
    );

    expect(result).toBe('signed in');
    expect(versions).toEqual(['1', '2']);
  });

  it('re-reads a settings-dependent refusal taken on cached settings, and lets it stand when nothing changed', async () => {
    const { cache, stored } = cacheOver('1');
    await cache.get('acme');
    const recorded: string[] = [];

    const refusal = decideOnCurrentSettings(
      cache,
      'acme',
      async () => {
        throw new LoginError('ROLE_NOT_MAPPED', 'no');
      },
      async (settings, error) => void recorded.push(`${settings.version}:${error.code}`),
    );

    await expect(refusal).rejects.toMatchObject({ code: 'ROLE_NOT_MAPPED' });
    expect(stored.reads).toBe(2);
    expect(recorded).toEqual(['1:ROLE_NOT_MAPPED']);
  });

  it('answers a refusal that no setting decides without reading again', async () => {
    const { cache, stored } = cacheOver('1');
    await cache.get('acme');

    const refusal = decideOnCurrentSettings(cache, 'acme', async () => Promise.reject(new LoginError('ASSERTION_REPLAYED', 'again')), noRecord);

    await expect(refusal).rejects.toMatchObject({ code: 'ASSERTION_REPLAYED' });
    expect(stored.reads).toBe(1);
  });

  it('asks the person to sign in again when the settings change twice during one login, and records that', async () => {
    const { cache, stored } = cacheOver('1');
    await cache.get('acme');
    stored.version = '2';
    const recorded: string[] = [];

    const refusal = decideOnCurrentSettings(
      cache,
      'acme',
      async () => Promise.reject(new CommitConflict('settings-changed')),
      async (settings, error) => void recorded.push(`${settings.version}:${error.code}`),
    );

    await expect(refusal).rejects.toBeInstanceOf(AppError);
    await expect(refusal).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(recorded).toEqual(['2:CONFLICT']);
  });
});
