// The rules beneath the fetcher: which addresses may be connected to, and how long a document is kept.
import { describe, expect, it } from 'vitest';
import { isFetchableAddress } from '../../src/outbound/address-policy.ts';
import { MAX_CACHE_SECONDS, MIN_CACHE_SECONDS, cacheLifetimeSeconds } from '../../src/cimd/cache-lifetime.ts';

describe('fetchable addresses', () => {
  const refused = [
    '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', // private
    '127.0.0.1', '127.8.9.10', '::1', // loopback
    '169.254.10.10', 'fe80::1', 'fe80::1%eth0', // link-local
    '169.254.169.254', '100.100.100.200', '168.63.129.16', 'fd00:ec2::254', // cloud metadata services
    '0.0.0.0', '::', '100.64.0.1', 'fc00::1', '224.0.0.1', '255.255.255.255', '2001:db8::1',
    '::ffff:10.0.0.1', '::ffff:a00:1', '::ffff:127.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1', // IPv4 in disguise
    'not-an-ip', '',
  ];
  it.each(refused)('refuses %s', (address) => expect(isFetchableAddress(address, false)).toBe(false));

  it.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:93.184.216.34', '[2606:4700:4700::1111]'])('accepts the public address %s', (address) => {
    expect(isFetchableAddress(address, false)).toBe(true);
  });

  it('with CIMD_ALLOW_LOOPBACK, accepts loopback and still refuses every other private address', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(isFetchableAddress(address, true), address).toBe(true);
    for (const address of ['10.0.0.1', '169.254.169.254', 'fd00::1', '0.0.0.0']) expect(isFetchableAddress(address, true), address).toBe(false);
  });
});

describe('cache lifetime', () => {
  it('follows max-age within bounds', () => {
    expect(cacheLifetimeSeconds('public, max-age=600', undefined)).toBe(600);
    expect(cacheLifetimeSeconds('max-age=5', undefined)).toBe(MIN_CACHE_SECONDS);
    expect(cacheLifetimeSeconds('max-age=31536000', undefined)).toBe(MAX_CACHE_SECONDS);
  });

  it('keeps a no-store or no-cache document only the minimum, and one without headers too', () => {
    expect(cacheLifetimeSeconds('no-store, max-age=600', undefined)).toBe(MIN_CACHE_SECONDS);
    expect(cacheLifetimeSeconds('no-cache', undefined)).toBe(MIN_CACHE_SECONDS);
    expect(cacheLifetimeSeconds(undefined, undefined)).toBe(MIN_CACHE_SECONDS);
  });

  it('uses Expires when there is no max-age', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(cacheLifetimeSeconds(undefined, 'Thu, 01 Jan 2026 01:00:00 GMT', now)).toBe(3600);
    expect(cacheLifetimeSeconds(undefined, 'garbage', now)).toBe(MIN_CACHE_SECONDS);
  });
});
