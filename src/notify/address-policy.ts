import { BlockList, isIP } from 'node:net';

/**
 * Where outgoing notifications (webhooks, Slack, Alertmanager) may connect. By default only
 * public addresses: a webhook URL typed into the dashboard must not become a way to reach the
 * server's own loopback, the private network or a cloud metadata service (SSRF).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 (may embed a private IPv4)
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** Why an address may not be connected to, or null when it is public. */
export function privateAddressReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return `"${address}" is not an IP address`;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return privateAddressReason(mapped[1]);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const [hi, lo] = [Number.parseInt(hex[1], 16), Number.parseInt(hex[2], 16)];
    return privateAddressReason(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (blocked.check(address, family === 4 ? 'ipv4' : 'ipv6'))
    return `${address} is a loopback, private, link-local or otherwise non-public address`;
  return null;
}
