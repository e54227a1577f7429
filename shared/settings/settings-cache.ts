/**
 * A warm Lambda keeps each org's settings for a few seconds, so a burst of logins
 * costs one settings Query per org per few seconds instead of one per login.
 *
 * The cache is a speed device only, never what decides a login: a login's transaction
 * checks the org's settings `version` it was planned on, and a refusal taken on cached
 * settings is re-read before it is answered (shared/login/current-settings.ts).
 */
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { OrgSettings } from './model.js';
import type { SettingsRepository } from './ports.js';

export const DEFAULT_SETTINGS_TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;

/** Settings as the cache served them: `cached` when they came from memory, not from a read just now. */
export interface SettingsLookup {
  settings: OrgSettings;
  cached: boolean;
}

export class SettingsCache {
  private readonly entries = new Map<string, { at: number; settings: OrgSettings }>();
  private readonly loading = new Map<string, Promise<OrgSettings | undefined>>();

  constructor(
    private readonly repository: SettingsRepository,
    private readonly clock: Clock,
    private readonly ttlMs = DEFAULT_SETTINGS_TTL_MS,
  ) {}

  /**
   * The org's settings, at most `ttlMs` old.
   * @throws AppError `ORG_NOT_FOUND`
   */
  async get(orgId: string): Promise<OrgSettings> {
    return (await this.lookup(orgId)).settings;
  }

  /**
   * The org's settings, and whether they came from memory (then they may be up to
   * `ttlMs` old) or from a read made for this call.
   * @throws AppError `ORG_NOT_FOUND`
   */
  async lookup(orgId: string): Promise<SettingsLookup> {
    const hit = this.entries.get(orgId);
    if (hit && this.clock.now().getTime() - hit.at < this.ttlMs) return { settings: hit.settings, cached: true };
    return { settings: await this.load(orgId, false), cached: false };
  }

  /**
   * Reads the org's settings now, whatever is cached, and caches the answer.
   * @throws AppError `ORG_NOT_FOUND`
   */
  async reload(orgId: string): Promise<OrgSettings> {
    return this.load(orgId, true);
  }

  private async load(orgId: string, fresh: boolean): Promise<OrgSettings> {
    const now = this.clock.now().getTime();
    // Concurrent misses for one org share one Query (a burst on a cold container); a
    // forced reload starts its own, so it never reuses a read that began before it.
    let loading = fresh ? undefined : this.loading.get(orgId);
    if (!loading) {
      loading = this.repository.load(orgId);
      const shared = loading.finally(() => {
        if (this.loading.get(orgId) === shared) this.loading.delete(orgId);
      });
      this.loading.set(orgId, shared);
      loading = shared;
    }
    const settings = await loading;
    if (!settings) {
      this.entries.delete(orgId);
      throw new AppError('ORG_NOT_FOUND', 'No organization exists at this address. Check the sign-in URL configured at your identity provider.');
    }
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(orgId)) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(orgId, { at: now, settings });
    return settings;
  }
}
