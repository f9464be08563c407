import { lookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import { PermanentNodeError } from './nodeErrors.js';

/** Where `http` nodes may connect: link-local never (cloud metadata lives there); with `blockPrivate`, public addresses only. */
export interface AddressRules {
  blockPrivate: boolean;
}

/** A refused address: the attempt fails for good, since the same address is refused the next time. */
export class AddressBlockedError extends PermanentNodeError {
  override name = 'AddressBlockedError';

  constructor(host: string, address: string, reason: string) {
    super(`${host} resolves to ${address}, a ${reason} address that http nodes may not reach`, 'HTTP_ADDRESS_BLOCKED');
  }
}

/**
 * Why `address` may not be reached, or null. IPv4-mapped IPv6 (`::ffff:169.254.169.254`) counts as
 * the IPv4 address it carries. With `blockPrivate` only what ipaddr.js calls `unicast` (globally
 * routable) passes: loopback, private, unique-local, unspecified, carrier-grade NAT, multicast,
 * reserved ranges and the IPv6 forms that embed IPv4 (6to4, NAT64, Teredo) are all refused.
 */
export function blockedReason(address: string, { blockPrivate }: AddressRules): string | null {
  if (!ipaddr.isValid(address)) return 'unparseable';
  let parsed = ipaddr.parse(address);
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) parsed = parsed.toIPv4Address();
  const range = parsed.range();
  if (range === 'linkLocal') return 'link-local';
  return blockPrivate && range !== 'unicast' ? range : null;
}

/**
 * A URL whose host is an IP address: connections to it skip name resolution (and so the lookup
 * below), so it is checked before each request, every redirect hop included.
 */
export function checkLiteralAddress(url: string, rules: AddressRules): void {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0) return;
  const reason = blockedReason(host, rules);
  if (reason !== null) throw new AddressBlockedError(host, host, reason);
}

/**
 * Resolves as the system does, and refuses the connection when any address the name resolves to
 * is blocked. It runs on the connection itself, so the address checked is the address connected
 * to: a name that resolves to a public address once and a private one later (DNS rebinding)
 * is checked at each connection.
 */
function guardedLookup(rules: AddressRules, resolveName: NameResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolveName(hostname, { ...options, all: true }, (error, resolved) => {
      if (error) return callback(error, '', 0);
      for (const { address } of resolved) {
        const reason = blockedReason(address, rules);
        // Typed as an errno error; the connection only hands it on, as the fetch's `cause`.
        if (reason !== null) return callback(new AddressBlockedError(hostname, address, reason) as unknown as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, resolved);
      const [first] = resolved;
      return first ? callback(null, first.address, first.family) : callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    });
  };
}

/** Name resolution as `dns.lookup` with `all: true` does it. */
export type NameResolver = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The connection pool of `http` nodes: every connection it opens goes through the address rules. */
export const guardedDispatcher = (rules: AddressRules, resolveName: NameResolver = lookup): Agent => new Agent({ connect: { lookup: guardedLookup(rules, resolveName) } });

/** The address refusal behind a failed fetch (which reports connection errors as its `cause`), if that is what it was. */
export const addressRefusal = (error: unknown): AddressBlockedError | null =>
  error instanceof AddressBlockedError ? error : error instanceof Error && error.cause instanceof AddressBlockedError ? error.cause : null;
