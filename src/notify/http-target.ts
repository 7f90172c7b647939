import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { privateAddressReason } from './address-policy.js';

/** A notification target that may not be used, with a message that says why and what to do. */
export class TargetRefused extends Error {}

export interface TargetPolicy {
  /** CIDR ranges (e.g. "10.0.0.0/8", "127.0.0.1/32") that may be reached although not public. */
  allowNetworks: string[];
}

export interface DeliveryOptions {
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Signs the body: `x-storepulse-signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
  hmacSecret?: string;
  policy: TargetPolicy;
}

export interface DeliveryResult {
  status: number;
  body: string;
}

/** Refuses a URL that is not http(s), carries credentials, or names a non-public IP literal. */
export function checkTargetUrl(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused(`"${raw}" is not a URL; use https://host/path`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TargetRefused(`only http and https targets are allowed, not ${url.protocol}`);
  if (url.username || url.password)
    throw new TargetRefused('put credentials in a header or the signature secret, not in the URL');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) refuseUnlessAllowed(host, policy, url.host);
  return url;
}

function refuseUnlessAllowed(address: string, policy: TargetPolicy, shown: string): void {
  const reason = privateAddressReason(address);
  if (reason && !allowList(policy).check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'))
    throw new TargetRefused(
      `refused to connect to ${shown}: ${reason}; allow it with notify.allowNetworks (e.g. "${address}/${isIP(address) === 6 ? 128 : 32}") if it is meant`,
    );
}

const lists = new WeakMap<TargetPolicy, BlockList>();
function allowList(policy: TargetPolicy): BlockList {
  let list = lists.get(policy);
  if (!list) {
    list = new BlockList();
    for (const cidr of policy.allowNetworks) {
      const [net, bits] = cidr.split('/');
      const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
      list.addSubnet(net, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type);
    }
    lists.set(policy, list);
  }
  return list;
}

/**
 * DNS resolution that refuses non-public answers. It runs when the socket connects, so the
 * address checked is the address used: a name that resolves to a private address, or changes
 * its answer between a check and the request (DNS rebinding), is refused.
 */
function guardedLookup(policy: TargetPolicy, shown: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      try {
        for (const a of addresses) refuseUnlessAllowed(a.address, policy, `${shown} (${a.address})`);
      } catch (refused) {
        return callback(refused as Error, '', 0);
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * POSTs a notification. Redirects are not followed (a 3xx is a failure: following it could lead
 * to a private address), the whole exchange has a time limit, and answers are read up to 64 KiB.
 */
export async function deliver(rawUrl: string, o: DeliveryOptions): Promise<DeliveryResult> {
  const url = checkTargetUrl(rawUrl, o.policy);
  const headers: Record<string, string> = {
    'content-type': o.contentType ?? 'application/json',
    'user-agent': 'storepulse-notify/1',
    ...o.headers,
  };
  if (o.hmacSecret)
    headers['x-storepulse-signature'] = signature(o.hmacSecret, o.body, Math.floor(Date.now() / 1000));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = o.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(o.body)) },
        lookup: guardedLookup(o.policy, url.host),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 65_536) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString('utf8').slice(0, 65_536);
          if (status >= 300 && status < 400)
            return reject(
              new TargetRefused(
                `${url.host} answered ${status} (redirect to ${res.headers.location ?? '?'}); redirects are not followed, use the final URL`,
              ),
            );
          resolve({ status, body });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Delivers with retries and exponential backoff on network errors, 429 and 5xx; refusals are final. */
export async function deliverWithRetry(
  url: string,
  o: DeliveryOptions & { attempts?: number; backoffMs?: number },
): Promise<DeliveryResult & { attempts: number }> {
  const attempts = o.attempts ?? 4;
  let last: Error | null = null;
  for (let i = 1; i <= attempts; i++) {
    try {
      const r = await deliver(url, o);
      if (r.status < 400) return { ...r, attempts: i };
      last = new Error(`${new URL(url).host} answered ${r.status}: ${r.body.slice(0, 200)}`);
      if (r.status < 500 && r.status !== 429) break;
    } catch (err) {
      if (err instanceof TargetRefused) throw err;
      last = err as Error;
    }
    if (i < attempts) await new Promise((r) => setTimeout(r, (o.backoffMs ?? 500) * 2 ** (i - 1)));
  }
  throw last ?? new Error('delivery failed');
}
