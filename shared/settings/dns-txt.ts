/**
 * The TXT lookups of domain verification (domains.ts), with node:dns: the system's
 * resolvers, or the one DNS server `DNS_RESOLVER=host:port` names (tests run one on
 * loopback). Bounded: 3 s per try, 2 tries. NXDOMAIN and "no TXT records" are a definite
 * "absent"; anything else (a timeout, a refused query) is "unavailable", which changes
 * nothing that was verified before.
 */
import { Resolver } from 'node:dns/promises';
import type { TxtLookup, TxtResolver } from './domains.js';

const ABSENT_CODES = new Set(['ENOTFOUND', 'ENODATA']);

export function createTxtResolver(options: { server?: string } = {}): TxtResolver {
  const resolver = new Resolver({ timeout: 3_000, tries: 2 });
  if (options.server) resolver.setServers([options.server]);
  return async (name: string): Promise<TxtLookup> => {
    try {
      // A TXT record may be split into several strings: they are one value, joined.
      const records = await resolver.resolveTxt(name);
      return { kind: 'found', values: records.map((chunks) => chunks.join('')) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      return ABSENT_CODES.has(code) ? { kind: 'absent' } : { kind: 'unavailable', reason: code };
    }
  };
}
