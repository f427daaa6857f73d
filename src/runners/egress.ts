import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { SquallError, errorMessage } from '../errors.js';

/** The `egress` config section: where the http-request runner may connect. */
export interface EgressSettings {
  /** Deny link-local addresses and the cloud metadata services. */
  block_metadata: boolean;
  /** CIDRs, addresses or host names never called. */
  deny: string[];
  /** When not empty, only these CIDRs, addresses or host names may be called. */
  allow: string[];
}

export const DEFAULT_EGRESS: EgressSettings = { block_metadata: true, deny: [], allow: [] };

/**
 * Link-local (IPv4 169.254.0.0/16 holds the AWS, GCP, Azure and OpenStack metadata service at
 * 169.254.169.254), AWS's IPv6 metadata address and Alibaba Cloud's metadata address.
 */
const METADATA_ENTRIES = [
  '169.254.0.0/16',
  'fe80::/10',
  'fd00:ec2::254',
  '100.100.100.200',
  'metadata.google.internal',
];

export interface Address {
  address: string;
  family: 4 | 6;
}

function expandIpv6(address: string): number[] {
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    text = text.slice(0, -tail[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/**
 * One spelling per address: IPv4-mapped (::ffff:a.b.c.d, ::ffff:7f00:1), IPv4-compatible
 * (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) IPv6 addresses reach an IPv4 host, so they are that
 * IPv4 address. Brackets and zone ids go.
 */
export function canonicalAddress(raw: string): Address | undefined {
  const text = raw
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const kind = isIP(text);
  if (kind === 4) return { address: text, family: 4 };
  if (kind !== 6) return undefined;
  const g = expandIpv6(text.toLowerCase());
  const v4 = () => `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(5) && g[5] === 0xffff) return { address: v4(), family: 4 };
  if (zeros(6) && (g[6] !== 0 || g[7] > 1)) return { address: v4(), family: 4 };
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return { address: v4(), family: 4 };
  return { address: g.map((x) => x.toString(16)).join(':'), family: 6 };
}

function normalName(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/** A list of CIDRs, addresses and host names, matched against names and resolved addresses. */
export class HostList {
  private readonly blocks = new BlockList();
  private readonly names = new Set<string>();
  private size = 0;

  constructor(entries: readonly string[], what: string) {
    for (const entry of entries) {
      this.size++;
      const [base, prefix] = String(entry).split('/');
      const ip = canonicalAddress(base);
      if (!ip) {
        if (prefix !== undefined)
          throw new SquallError('EGRESS_ENTRY_INVALID', `${what}: "${entry}" is not a CIDR`, { entry });
        this.names.add(normalName(base));
        continue;
      }
      const type = ip.family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.blocks.addAddress(ip.address, type);
      else {
        const bits = Number(prefix);
        // A mapped IPv6 CIDR (::ffff:10.0.0.0/104) is its IPv4 CIDR.
        const v4bits = ip.family === 4 && isIP(base.replace(/^\[(.*)\]$/, '$1')) === 6 ? bits - 96 : bits;
        if (!Number.isInteger(v4bits) || v4bits < 0 || v4bits > (ip.family === 4 ? 32 : 128))
          throw new SquallError('EGRESS_ENTRY_INVALID', `${what}: "${entry}" has an invalid prefix length`, {
            entry,
          });
        this.blocks.addSubnet(ip.address, v4bits, type);
      }
    }
  }

  get empty(): boolean {
    return this.size === 0;
  }

  hasName(host: string): boolean {
    return this.names.has(normalName(host));
  }

  hasAddress(a: Address): boolean {
    return this.blocks.check(a.address, a.family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Listed names, to be resolved so that a name also covers its addresses. */
  listedNames(): string[] {
    return [...this.names];
  }
}

/** The addresses a host name (or address literal) reaches; a literal is not looked up. */
export async function resolveHost(hostname: string): Promise<Address[]> {
  const literal = canonicalAddress(hostname);
  if (literal) return [literal];
  let found: Array<{ address: string; family: number }>;
  try {
    found = await dnsLookup(normalName(hostname), { all: true, verbatim: true });
  } catch (err) {
    throw new SquallError('HTTP_HOST_UNRESOLVED', `cannot resolve host "${hostname}": ${errorMessage(err)}`, {
      host: hostname,
    });
  }
  return found.map((f) => canonicalAddress(f.address)).filter((a): a is Address => a !== undefined);
}

async function resolvedNames(list: HostList): Promise<Set<string>> {
  const out = new Set<string>();
  for (const name of list.listedNames()) {
    // A listed name that does not resolve still matches by name.
    const addresses = await resolveHost(name).catch(() => []);
    for (const a of addresses) out.add(a.address);
  }
  return out;
}

export interface HostCheck {
  host: string;
  addresses: Address[];
}

/**
 * Why `target` may not be called under a deny list (any match refuses: its name, one of its
 * addresses, or an address of a listed name), or undefined.
 */
export async function deniedBy(list: HostList, target: HostCheck): Promise<string | undefined> {
  if (list.empty) return undefined;
  if (list.hasName(target.host)) return `host "${target.host}"`;
  const hit = target.addresses.find((a) => list.hasAddress(a));
  if (hit) return `address ${hit.address}`;
  const named = await resolvedNames(list);
  const viaName = target.addresses.find((a) => named.has(a.address));
  return viaName ? `address ${viaName.address}` : undefined;
}

/**
 * Why `target` may not be called under an allow list, or undefined: it passes when its name is
 * listed, or when every address it resolves to is.
 */
export function notAllowedBy(list: HostList, target: HostCheck): string | undefined {
  if (list.empty || list.hasName(target.host)) return undefined;
  const miss = target.addresses.find((a) => !list.hasAddress(a));
  if (miss) return `address ${miss.address}`;
  return target.addresses.length === 0 ? `host "${target.host}"` : undefined;
}

/** The config's egress policy, compiled once per run. */
export class EgressPolicy {
  readonly deny: HostList;
  readonly allow: HostList;

  constructor(settings: EgressSettings = DEFAULT_EGRESS) {
    this.deny = new HostList(
      [...(settings.block_metadata ? METADATA_ENTRIES : []), ...settings.deny],
      'egress.deny',
    );
    this.allow = new HostList(settings.allow, 'egress.allow');
  }

  /** Why the config forbids `target`, or undefined. Deny wins over allow. */
  async refusal(target: HostCheck): Promise<string | undefined> {
    const denied = await deniedBy(this.deny, target);
    if (denied) return `${denied} is denied by the egress policy (egress.deny, egress.block_metadata)`;
    const missing = notAllowedBy(this.allow, target);
    return missing ? `${missing} is not in the egress policy's allow list (egress.allow)` : undefined;
  }
}

/** A net.connect `lookup` that answers only the addresses that were checked (no second DNS query). */
export function pinnedLookup(addresses: Address[]): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all)
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, addresses[0].address, addresses[0].family);
  }) as LookupFunction;
}
