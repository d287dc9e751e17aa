import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { EndpointPolicy } from './endpoint-policy.js';

/** dns.lookup with every address: what {@link guardedLookup} resolves names with. */
export type Resolver = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The error code of a connection refused because its name resolved to an address the policy forbids. */
export const ENDPOINT_ADDRESS_REFUSED = 'ERR_ENDPOINT_ADDRESS_REFUSED';

/**
 * The `lookup` of a plugin's connections: resolves the endpoint's name and
 * refuses to connect when any address it resolves to is one the policy
 * forbids (review M6: a name allowed by the configuration could resolve, or
 * be re-pointed later, to the cloud metadata address). Checked at every new
 * connection, so a DNS change cannot slip past the check made at load.
 * Endpoints written as IP addresses never get here: they were checked at load.
 */
export function guardedLookup(policy: EndpointPolicy, resolve: Resolver = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const problem = addresses.map((a) => policy.addressProblem(a.address)).find((p) => p !== undefined);
      if (problem !== undefined) {
        const refused: NodeJS.ErrnoException = new Error(`${hostname}: ${problem}`);
        refused.code = ENDPOINT_ADDRESS_REFUSED;
        return callback(refused, '');
      }
      const [first] = addresses;
      if (options.all) callback(null, addresses);
      else if (first) callback(null, first.address, first.family);
      else callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '');
    });
  };
}
