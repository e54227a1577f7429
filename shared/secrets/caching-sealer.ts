/**
 * Keeps opened secrets for a few minutes, so a login does not call KMS every time: an
 * OIDC callback needs the client secret, and a burst of logins needs the same one.
 * Keyed by the sealed value and its context, so a changed secret is a new entry.
 */
import type { Clock } from '../clock.js';
import { canonicalContext, type SealingContext, type SecretSealer } from './sealer.js';

const TTL_MS = 5 * 60_000;
const MAX_ENTRIES = 500;

export class CachingSealer implements SecretSealer {
  private readonly opened = new Map<string, { at: number; plaintext: Promise<string> }>();

  constructor(
    private readonly inner: SecretSealer,
    private readonly clock: Clock,
  ) {}

  seal(plaintext: string, context: SealingContext): Promise<string> {
    return this.inner.seal(plaintext, context);
  }

  open(sealed: string, context: SealingContext): Promise<string> {
    const key = `${canonicalContext(context)}\n${sealed}`;
    const now = this.clock.now().getTime();
    const hit = this.opened.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.plaintext;
    const plaintext = this.inner.open(sealed, context);
    // A failure is not cached: the next login asks again.
    plaintext.catch(() => this.opened.delete(key));
    if (this.opened.size >= MAX_ENTRIES) this.opened.delete(this.opened.keys().next().value as string);
    this.opened.set(key, { at: now, plaintext });
    return plaintext;
  }
}
