/**
 * Aggregator -> shard worker requests are signed with a shared secret, so an exposed worker
 * only computes for its aggregator: HMAC-SHA256 over tenant, timestamp and the body's SHA-256.
 * A signature older than MAX_SKEW_MS is refused (a captured request replays only briefly, and
 * a shard is idempotent anyway).
 */
import { sha256Hex } from '../util/digest.ts';

export const MAX_SKEW_MS = 5 * 60_000;
const encoder = new TextEncoder();

async function key(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

async function message(tenant: string, timestamp: string, body: string): Promise<Uint8Array<ArrayBuffer>> {
  return encoder.encode(`${tenant}\n${timestamp}\n${await sha256Hex(encoder.encode(body))}`);
}

const toHex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

export async function signShardRequest(secret: string, tenant: string, body: string, now = Date.now()): Promise<Record<string, string>> {
  const timestamp = String(now);
  const signature = toHex(await crypto.subtle.sign('HMAC', await key(secret, 'sign'), await message(tenant, timestamp, body)));
  return { 'x-irs-tenant': tenant, 'x-irs-timestamp': timestamp, 'x-irs-signature': signature };
}

/** Why a signed request is refused, or undefined when it is genuine. */
export async function verifyShardRequest(secret: string, headers: { tenant?: string; timestamp?: string; signature?: string }, body: string, now = Date.now()): Promise<string | undefined> {
  const { tenant, timestamp, signature } = headers;
  if (!tenant || !timestamp || !signature) return 'signed requests need X-Irs-Tenant, X-Irs-Timestamp and X-Irs-Signature';
  if (!/^\d{1,16}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > MAX_SKEW_MS) return 'signature timestamp is missing or too old';
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'malformed signature';
  const bytes = new Uint8Array(signature.match(/../g)!.map((h) => parseInt(h, 16)));
  const ok = await crypto.subtle.verify('HMAC', await key(secret, 'verify'), bytes, await message(tenant, timestamp, body));
  return ok ? undefined : 'invalid signature';
}

/**
 * A fingerprint of the worker secret a shard worker holds (a worker states it with its
 * results): names which key, never reveals it. Workers sharing one secret share it.
 */
export async function keyFingerprint(secret: string): Promise<string> {
  return (await sha256Hex(encoder.encode(`irs-edge/worker-key\n${secret}`))).slice(0, 16);
}
