/** Listing a tenant's objects for the console's tables (GET /v1/jobs, /v1/models, /v1/inputs, /v1/certificates). */
import type { ServiceConfig } from '../service/runtime.ts';

const ID = /^[0-9a-f]{32,64}$/;

export const prefix = (tenant: string, kind: string) => `tenants/${tenant}/${kind}/`;

export function decode<T>(bytes: Uint8Array | undefined): T | undefined {
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : undefined;
}

/** The hex names of objects directly under prefix with the given suffix (not nested keys). */
export async function idsUnder(cfg: ServiceConfig, prefix: string, suffix: string): Promise<{ id: string; size: number }[]> {
  const out: { id: string; size: number }[] = [];
  for (const o of await cfg.store.list(prefix)) {
    const name = o.key.slice(prefix.length);
    if (name.endsWith(suffix) && ID.test(name.slice(0, -suffix.length))) out.push({ id: name.slice(0, -suffix.length), size: o.size });
  }
  return out;
}

export async function mapLimited<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  }));
  return out;
}
