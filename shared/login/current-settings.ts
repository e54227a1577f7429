/**
 * "Settings take effect at once" (API.md): a login is decided by the settings in force
 * when it completes, although instances keep settings in memory for speed.
 *
 * Two rules make that so without an extra round trip on the happy path:
 * - a login's transaction carries a condition on the org's settings `version` it was
 *   planned on (`LoginCommit.settingsVersion`); when another write bumped it meanwhile,
 *   the commit fails with `CommitConflict('settings-changed')`, and the login is planned
 *   again, once, on settings read now;
 * - a refusal that depends on settings and was decided on cached ones is re-read once
 *   before it is answered, so a change that enables something is obeyed at once too.
 */
import { AppError, LoginError, type ErrorCode } from '../errors.js';
import type { OrgSettings } from '../settings/model.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { CommitConflict } from '../users/ports.js';

/**
 * Refusals whose answer depends on the org's settings (SSO and JIT switches, the IdP's
 * issuer and certificates, allowSha1, requireEncryptedAssertions, attribute and role mappings). Other refusals (a replay, an
 * expired assertion, a blocked user) stand whatever the settings say.
 */
const SETTINGS_DEPENDENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SSO_NOT_ENABLED',
  'IDP_INITIATED_DISABLED',
  'USER_NOT_PROVISIONED',
  'EMAIL_MISSING',
  'ROLE_ATTRIBUTE_MISSING',
  'ROLE_NOT_MAPPED',
  'SIGNATURE_INVALID',
  'ALGORITHM_NOT_ALLOWED',
  'CERTIFICATE_EXPIRED',
  'ASSERTION_NOT_ENCRYPTED',
  'IDP_ISSUER_MISMATCH',
  'STATE_INVALID',
]);

/**
 * Runs `decide` on the org's settings as the cache has them and, when they turn out to
 * be stale, once more on settings read now. A refusal (`AppError`) is handed to
 * `refused` with the settings that decided it (to record it) before it is thrown.
 *
 * @throws whatever `decide` throws on the settings that decided; AppError `ORG_NOT_FOUND`
 */
export async function decideOnCurrentSettings<T>(
  cache: SettingsCache,
  orgId: string,
  decide: (settings: OrgSettings) => Promise<T>,
  refused: (settings: OrgSettings, error: AppError) => Promise<void>,
): Promise<T> {
  const { settings, cached } = await cache.lookup(orgId);
  let decidedOn = settings;
  try {
    try {
      return await decide(settings);
    } catch (error) {
      const staleCommit = error instanceof CommitConflict && error.reason === 'settings-changed';
      const staleRefusal = cached && error instanceof AppError && SETTINGS_DEPENDENT.has(error.code);
      if (!staleCommit && !staleRefusal) throw error;
      const current = await cache.reload(orgId);
      // The refusal was decided on what is still in force: it stands.
      if (!staleCommit && current.version === settings.version) throw error;
      decidedOn = current;
      return await decide(current);
    }
  } catch (error) {
    if (error instanceof CommitConflict && error.reason === 'settings-changed') {
      // Changed again while the login was planned a second time: ask the person to retry.
      const conflict = new LoginError('CONFLICT', "Your organization's sign-in settings changed while you were signing in. Sign in again.", { cause: error });
      await refused(decidedOn, conflict);
      throw conflict;
    }
    if (error instanceof AppError) await refused(decidedOn, error);
    throw error;
  }
}
