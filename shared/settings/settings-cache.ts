/**
 * A warm Lambda keeps each org's settings for a few seconds, so a burst of logins
 * costs one settings Query per org per few seconds instead of one per login.
 */
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { SettingsRepository } from './ports.js';
import type { OrgSettings } from './model.js';

export const DEFAULT_SETTINGS_TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;

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
    const now = this.clock.now().getTime();
    const hit = this.entries.get(orgId);
    if (hit && now - hit.at < this.ttlMs) return hit.settings;
    // Concurrent misses for one org share one Query (a burst on a cold container).
    let loading = this.loading.get(orgId);
    if (!loading) {
      loading = this.repository.load(orgId).finally(() => this.loading.delete(orgId));
      this.loading.set(orgId, loading);
    }
    const settings = await loading;
    if (!settings) {
      this.entries.delete(orgId);
      throw new AppError('ORG_NOT_FOUND', 'No organization exists at this address. Check the sign-in URL configured at your identity provider.');
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(orgId, { at: now, settings });
    return settings;
  }
}
