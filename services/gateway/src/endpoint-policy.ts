import { BlockList, isIP } from 'node:net';

/**
 * Which plugin endpoints the gateway may call (M6: a plugin document from a
 * ConfigMap must not turn the gateway into a proxy to cloud metadata or
 * internal services). Entries are host names (`plugins.example`), wildcard
 * suffixes (`*.plugins.svc.cluster.local`), IP addresses and CIDRs
 * (`10.0.0.0/8`, `fd00::/8`). A CIDR matches endpoints written as an IP
 * address; an endpoint by name must match a name entry.
 *
 * Without an allowlist every endpoint is allowed except link-local addresses
 * (169.254.0.0/16, fe80::/10 — the cloud metadata services) and
 * `metadata.google.internal`; an allowlist that names them allows them.
 */
/** Link-local addresses: where the cloud metadata services answer. */
const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');

export class EndpointPolicy {
  readonly #names: ReadonlySet<string>;
  readonly #suffixes: readonly string[];
  readonly #addresses: BlockList;
  readonly #listed: boolean;

  private constructor(names: Set<string>, suffixes: string[], addresses: BlockList, listed: boolean) {
    this.#names = names;
    this.#suffixes = suffixes;
    this.#addresses = addresses;
    this.#listed = listed;
  }

  /** Every endpoint but link-local addresses and the metadata host name. */
  static readonly default: EndpointPolicy = new EndpointPolicy(new Set(['metadata.google.internal']), [], linkLocal, false);

  /**
   * The allowlist of `entries`; each problem names its index
   * (`[2]: "10.0.0.0/33" is not a host name, IP address or CIDR`).
   */
  static allowlist(entries: readonly string[]): { policy: EndpointPolicy; problems: string[] } {
    const names = new Set<string>();
    const suffixes: string[] = [];
    const addresses = new BlockList();
    const problems: string[] = [];
    entries.forEach((raw, i) => {
      const entry = raw.trim().toLowerCase();
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const family = isIP(address);
      if (family !== 0) {
        const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || (prefix !== undefined && !/^\d+$/.test(prefix))) {
          problems.push(`[${i}]: ${JSON.stringify(raw)} has an invalid prefix length`);
        } else addresses.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
      } else if (/^\*\.[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(entry)) {
        suffixes.push(entry.slice(1));
      } else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(entry)) {
        names.add(entry);
      } else {
        problems.push(`[${i}]: ${JSON.stringify(raw)} is not a host name, *.suffix, IP address or CIDR`);
      }
    });
    return { policy: new EndpointPolicy(names, suffixes, addresses, true), problems };
  }

  /**
   * Why a connection to `address`, which an endpoint's name resolved to, may
   * not be made: a link-local address, unless the allowlist names it as an
   * address or CIDR. Undefined when it may.
   */
  addressProblem(address: string): string | undefined {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!linkLocal.check(address, family)) return undefined;
    if (this.#listed && this.#addresses.check(address, family)) return undefined;
    return `resolves to ${address}, a link-local or metadata address; name it in gateway.allowedEndpoints to allow it`;
  }

  /** Why `url` may not be called, or undefined when it may. */
  problem(url: URL): string | undefined {
    const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const family = isIP(host);
    const matches = family !== 0 ? this.#addresses.check(host, family === 4 ? 'ipv4' : 'ipv6') : this.#names.has(host) || this.#suffixes.some((s) => host.endsWith(s));
    if (this.#listed) return matches ? undefined : `host ${host} is not in gateway.allowedEndpoints`;
    return matches ? `host ${host} is a link-local or metadata address; name it in gateway.allowedEndpoints to allow it` : undefined;
  }
}
