/**
 * A `dns.lookup` replacement for undici's `connect: { lookup }` that refuses to connect to forbidden addresses
 * (SSRF guard, second line). Checking here, on the addresses the socket is about to use, defeats DNS rebinding: a
 * name that resolved to a public address when the webhook was saved (or a moment ago) cannot switch to 127.0.0.1 or
 * 169.254.169.254 between our check and the connect, because this is the connect.
 *
 * Node's `net.connect` skips `lookup` for IP literals, so literal hosts never come through here; the sender checks
 * them with `checkTargetUrl` before the request instead.
 */
import { type LookupAddress, type LookupOptions, lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isForbiddenAddress } from '../domain/url-policy.js';

export const SSRF_BLOCKED_CODE = 'HOOKLINE_SSRF_BLOCKED';

/** The resolver behind the guard, `dns.lookup` with `all: true`; replaceable so tests can fake DNS answers. */
export type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export class SsrfBlockedError extends Error {
  readonly code = SSRF_BLOCKED_CODE;

  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`${hostname} resolves to a private or loopback address (${address})`);
    this.name = 'SsrfBlockedError';
  }
}

/**
 * Recognises the guard's refusal however it arrives: undici and Node pass connect errors through as they are, but
 * a wrapper may put it in `cause` (or an AggregateError in `errors`), so the chain is searched a few levels deep.
 */
export function isSsrfBlockedError(err: unknown): err is SsrfBlockedError {
  return findSsrfBlockedError(err) !== null;
}

export function findSsrfBlockedError(err: unknown, depth = 0): SsrfBlockedError | null {
  if (err instanceof SsrfBlockedError) return err;
  if (typeof err !== 'object' || err === null || depth >= 5) return null;
  if ('cause' in err) {
    const found = findSsrfBlockedError(err.cause, depth + 1);
    if (found !== null) return found;
  }
  if ('errors' in err && Array.isArray(err.errors)) {
    for (const inner of err.errors) {
      const found = findSsrfBlockedError(inner, depth + 1);
      if (found !== null) return found;
    }
  }
  return null;
}

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

export function createGuardedLookup({
  allowPrivate,
  resolver = systemResolver,
}: {
  allowPrivate: boolean;
  resolver?: Resolver;
}): LookupFunction {
  return (hostname, options, callback) => {
    // `dns.lookup` also accepts a bare family number; normalise so the spread below stays an object.
    const base: LookupOptions = typeof options === 'object' && options !== null ? options : {};
    // Always resolve every address: with Node's happy eyeballs (`autoSelectFamily`, on by default) the socket may
    // try any of them, so each one must pass, not just the first.
    resolver(hostname, { ...base, all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      const first = addresses[0];
      if (first === undefined) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        callback(notFound, []);
        return;
      }
      if (!allowPrivate) {
        const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
        if (forbidden !== undefined) {
          callback(new SsrfBlockedError(hostname, forbidden.address), []);
          return;
        }
      }
      if (base.all === true) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
