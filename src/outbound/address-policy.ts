// Which IP addresses our outbound fetches (metadata documents, the admin's resource-metadata check) may
// connect to: public unicast only. Private, loopback, link-local, shared (CGNAT), documentation, multicast,
// reserved and cloud-metadata addresses are refused, after DNS resolution (publicAddressLookup).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

// IANA special-purpose registries (RFC 6890 and successors), plus cloud metadata endpoints.
const FORBIDDEN_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network": 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], // RFC 1918 private
  ['100.64.0.0', 10], // RFC 6598 shared address space (CGNAT; holds Alibaba's 100.100.100.200 metadata)
  ['169.254.0.0', 16], // RFC 3927 link-local (holds 169.254.169.254, the AWS/GCP/Azure metadata service)
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4], // multicast, reserved and broadcast
];
const FORBIDDEN_V4_HOSTS = ['168.63.129.16']; // Azure's wire server, a public-looking metadata address
const LOOPBACK_V4: [string, number] = ['127.0.0.0', 8];

const FORBIDDEN_V6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['64:ff9b::', 96], ['64:ff9b:1::', 48], // NAT64: an IPv4 address in disguise
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID…)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: an IPv4 address in disguise
  ['fc00::', 7], // unique local (holds AWS's fd00:ec2::254 metadata service)
  ['fe80::', 10], ['fec0::', 10], // link-local, old site-local
  ['ff00::', 8], // multicast
];
const LOOPBACK_V6: [string, number] = ['::1', 128];

function blockList(withLoopback: boolean): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of FORBIDDEN_V4) list.addSubnet(network, prefix, 'ipv4');
  for (const address of FORBIDDEN_V4_HOSTS) list.addAddress(address, 'ipv4');
  for (const [network, prefix] of FORBIDDEN_V6) list.addSubnet(network, prefix, 'ipv6');
  if (withLoopback) {
    list.addSubnet(...LOOPBACK_V4, 'ipv4');
    list.addSubnet(...LOOPBACK_V6, 'ipv6');
  }
  return list;
}

const strict = blockList(true);
const loopbackAllowed = blockList(false);

/**
 * Whether a fetch may connect to this address. `allowLoopback` (CIMD_ALLOW_LOOPBACK, development only)
 * lets 127.0.0.0/8 and ::1 through; nothing else private ever is. Anything that is not an IP is refused.
 */
export function isFetchableAddress(address: string, allowLoopback: boolean): boolean {
  // Brackets and a zone index (fe80::1%eth0) are not part of the address. BlockList judges an
  // IPv4-mapped IPv6 address (::ffff:10.0.0.1, ::ffff:a00:1) by the IPv4 rules.
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(plain);
  if (family === 0) return false;
  const list = allowLoopback ? loopbackAllowed : strict;
  return !list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

/** The error code a refused resolution carries (the socket's 'error' event). */
export const FORBIDDEN_ADDRESS_CODE = 'CIMD_FORBIDDEN_ADDRESS';

/**
 * A socket `lookup` that refuses the whole DNS answer if any address in it is not fetchable: refusing
 * (not skipping) defeats answers that mix a public address with an internal one. `resolve`: tests play
 * a rebinding attacker with it; production uses the system resolver.
 */
export function publicAddressLookup(allowLoopback: boolean, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      const list = (addresses ?? []) as LookupAddress[];
      if (!error && (list.length === 0 || list.some((entry) => !isFetchableAddress(entry.address, allowLoopback)))) {
        error = Object.assign(new Error('its host does not resolve to a public internet address'), { code: FORBIDDEN_ADDRESS_CODE });
      }
      if (error) return callback(error, lookupOptions.all ? [] : '', 0);
      if (lookupOptions.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
