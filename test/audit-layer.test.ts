/**
 * The audit layer (coordinator/audit.ts) on its own, with fake parties instead of HTTP
 * workers: keyed selection, exact comparison, the third computation, quarantine and the
 * recomputation of a quarantined party's results, cross-backend refusal, resume, and the
 * detection probability 1 - (1 - qF)^m of RELIABILITY.md.
 */
import { describe, expect, it } from 'vitest';
import { AGGREGATOR, createAudit, selectedForAudit, shardKey, type AuditOptions, type StoredShard } from '../src/coordinator/audit.ts';
import { PermanentShardError, type RoutedDispatcher } from '../src/coordinator/http-dispatcher.ts';
import type { ShardStore } from '../src/coordinator/sharded-sampler.ts';
import type { ShardRequest, ShardResponse } from '../src/protocol/schemas.ts';

const MODEL = 'a'.repeat(64);
const INPUTS = 'b'.repeat(64);

function request(i: number, replay = false): ShardRequest {
  return {
    model: MODEL, inputs: [{ inputs: INPUTS, index: i % 7 }], sigma: 0.5, seed: 1, stream: replay ? 2 : 1, start: 100 * i, count: 100, batchSize: 100,
    ...(replay ? { reference: ['AAAA'] } : {}),
  };
}

/** The honest answer: a pure function of the request. */
function honest(r: ShardRequest): ShardResponse {
  const a = (r.start / 100) % 37;
  return {
    model: r.model, start: r.start, count: r.count, counts: r.inputs.map(() => [r.count - a, a, 0]), seconds: r.inputs.map(() => 0.01),
    ...(r.reference ? { disagreements: r.inputs.map(() => a % 5) } : {}),
  };
}

type Party = (r: ShardRequest) => ShardResponse;
const stating = (backend: string, p: Party): Party => (r) => ({ worker: { id: 'w', backend, version: 't' }, ...p(r) });

/** Fake workers: the first one in `order` not excluded gets the shard. */
function fakeRemote(parties: Record<string, Party>, order = Object.keys(parties)): RoutedDispatcher & { calls: Record<string, number> } {
  const calls: Record<string, number> = Object.fromEntries(order.map((w) => [w, 0]));
  return {
    workers: order,
    calls,
    dispatch: async (r) => parties[order[0]](r),
    async dispatchVia(r, o = {}) {
      const w = order.find((x) => !o.exclude?.has(x));
      if (!w) throw new PermanentShardError('no shard worker left to send the shard to (all excluded)');
      calls[w]++;
      return { worker: w, response: structuredClone(parties[w](r)) };
    },
  };
}

function memoryResults(): ShardStore & { map: Map<string, ShardResponse> } {
  const map = new Map<string, ShardResponse>();
  return { map, get: async (k) => map.get(k), put: async (k, r) => { map.set(k, structuredClone(r)); } };
}

/** What the sharded sampler does per shard: the stored result, or dispatch and store. */
async function sampleAll(audit: ReturnType<typeof createAudit>, requests: ShardRequest[]): Promise<ShardResponse[]> {
  const out: ShardResponse[] = [];
  for (const r of requests) {
    const key = await shardKey(r);
    let res = await audit.results?.get(key);
    if (!res) { res = await audit.dispatcher.dispatch(r); await audit.results?.put(key, res); }
    out.push(res);
  }
  return out;
}

const strip = (r: ShardResponse) => ({ counts: r.counts, disagreements: r.disagreements });
const key = (n: number) => new Uint8Array(32).map((_, i) => (n * 131 + i * 7) & 255);
const base = (o: Partial<AuditOptions>): AuditOptions => ({ fraction: 0.5, key: key(1), backend: 'node', local: async (r) => honest(r), ...o });

/** Lies on every shard whose index is a multiple of `every`: moves 3 votes, or a disagreement. */
const liar = (every: number): Party => (r) => {
  const h = honest(r);
  if ((r.start / 100) % every !== 0) return h;
  if (h.disagreements) return { ...h, disagreements: h.disagreements.map((d) => d + 1) };
  return { ...h, counts: h.counts.map(([a, b, c]) => [a - 3, b + 3, c]) };
};

describe('audit layer', () => {
  it('selects a keyed fraction of shards: about F of them, a different set per key', async () => {
    const keys = await Promise.all(Array.from({ length: 4000 }, (_, i) => shardKey(request(i))));
    for (const f of [0.05, 0.1, 0.2]) {
      const picked = (await Promise.all(keys.map((k) => selectedForAudit(key(1), k, f)))).filter(Boolean).length;
      const sd = Math.sqrt(4000 * f * (1 - f));
      expect(Math.abs(picked - 4000 * f)).toBeLessThan(4 * sd);
    }
    const a = await Promise.all(keys.slice(0, 500).map((k) => selectedForAudit(key(1), k, 0.2)));
    const b = await Promise.all(keys.slice(0, 500).map((k) => selectedForAudit(key(2), k, 0.2)));
    expect(a).not.toEqual(b);
    expect(await selectedForAudit(key(1), keys[0], 0)).toBe(false);
    expect(await selectedForAudit(key(1), keys[0], 1)).toBe(true);
  });

  it('honest parties: every audited shard agrees, nothing is quarantined', async () => {
    const remote = fakeRemote({ w1: stating('node', honest), w2: stating('node', honest) });
    const audit = createAudit(base({ remote, results: memoryResults(), fraction: 1 }));
    const requests = Array.from({ length: 30 }, (_, i) => request(i, i % 3 === 0));
    const out = await audit.run(() => sampleAll(audit, requests));
    expect(out.map(strip)).toEqual(requests.map((r) => strip(honest(r))));
    const s = audit.status();
    expect([s.selected, s.compared, s.agreed, s.mismatches.length, s.quarantined.length, s.rounds]).toEqual([30, 30, 30, 0, 0, 1]);
    const p = audit.provenance();
    expect(p.shards.every((x) => x.by === 'w1' && x.audit?.by === 'w2' && x.audit.agreed)).toBe(true);
  });

  it('a liar (votes moved, disagreements altered) is outvoted by the third computation, quarantined, and all its results are recomputed', async () => {
    const remote = fakeRemote({ liar: stating('node', liar(4)), good: stating('node', honest) });
    const results = memoryResults();
    const audit = createAudit(base({ remote, results, fraction: 1 }));
    const requests = Array.from({ length: 20 }, (_, i) => request(i + 1, i % 2 === 1));
    const out = await audit.run(() => sampleAll(audit, requests));
    expect(out.map(strip)).toEqual(requests.map((r) => strip(honest(r))));
    const s = audit.status();
    expect(s.quarantined.map((q) => [q.party, q.reason])).toEqual([['liar', 'mismatch']]);
    expect(s.mismatches).toHaveLength(1);
    const m = s.mismatches[0];
    expect([m.primary, m.auditor, m.referee, m.faulty]).toEqual(['liar', 'good', AGGREGATOR, 'liar']);
    expect(m.stated?.backend).toBe('node');
    // Shard 4 (start 400) is a replay: the liar reported 5 disagreements where there are 4.
    expect(m.differences).toEqual(['input 0: disagreements 5 vs 4']);
    expect([m.start, m.stream]).toEqual([400, 2]);
    // Results the liar gave before it was caught (shards 1-3) were discarded and recomputed.
    expect(s.discarded).toBe(3);
    expect(s.quarantined[0].discarded).toEqual(await Promise.all([1, 2, 3].map((i) => shardKey(requests[i - 1]))));
    expect(s.rounds).toBe(2);
    const p = audit.provenance();
    expect(p.shards.some((x) => x.by === 'liar')).toBe(false);
    expect(p.audit?.quarantined[0].party).toBe('liar');
  });

  it('votes moved between classes are named class by class', async () => {
    const remote = fakeRemote({ liar: stating('node', liar(1)), good: stating('node', honest) });
    const audit = createAudit(base({ remote, fraction: 1 }));
    await audit.run(() => sampleAll(audit, [request(6)]));
    expect(audit.status().mismatches[0].differences).toEqual(['input 0: counts[0] 91 vs 94', 'input 0: counts[1] 9 vs 6']);
  });

  it('at F = 0 it only records who computed what (no comparison, no quarantine)', async () => {
    const remote = fakeRemote({ liar: liar(2), good: honest });
    const audit = createAudit(base({ remote, results: memoryResults(), fraction: 0 }));
    const out = await audit.run(() => sampleAll(audit, [request(2), request(3)]));
    expect(out[0].counts).not.toEqual(honest(request(2)).counts); // the lie goes through
    expect(audit.provenance().shards.map((x) => x.by)).toEqual(['liar', 'liar']);
    expect(audit.provenance().audit).toBeUndefined();
    expect(remote.calls.good).toBe(0);
  });

  it('refuses cross-backend audits: a worker stating another backend (or none) is excluded, its shards recomputed on the job backend', async () => {
    const remote = fakeRemote({ wasm: stating('wasm', honest), legacy: honest, node: stating('node', honest) });
    const audit = createAudit(base({ remote, results: memoryResults(), fraction: 0.5 }));
    await audit.run(() => sampleAll(audit, Array.from({ length: 6 }, (_, i) => request(i))));
    const s = audit.status();
    expect(s.quarantined.map((q) => [q.party, q.reason])).toEqual([['wasm', 'backend'], ['legacy', 'backend']]);
    expect(s.mismatches).toEqual([]);
    expect(s.crossBackend).toBe('refused');
    expect(audit.provenance().shards.every((x) => x.by === 'node' && (!x.audit || x.audit.by === AGGREGATOR))).toBe(true);
  });

  it('fails the job when three parties give three different answers', async () => {
    const bump = (k: number): Party => (r) => ({ ...honest(r), counts: honest(r).counts.map(([a, b, c]) => [a - k, b + k, c]) });
    const remote = fakeRemote({ a: stating('node', bump(1)), b: stating('node', bump(2)) });
    const audit = createAudit(base({ remote, fraction: 1, local: async (r) => bump(3)(r) }));
    await expect(audit.run(() => sampleAll(audit, [request(1)]))).rejects.toThrow(/three different answers/);
  });

  it('a resumed job keeps its quarantine: the stored results of the quarantined party read as missing', async () => {
    const results = memoryResults();
    const first = createAudit(base({ remote: fakeRemote({ liar: stating('node', liar(3)), good: stating('node', honest) }), results, fraction: 1 }));
    await first.run(() => sampleAll(first, [request(1), request(2), request(3)]));
    const saved = first.status();
    expect(saved.quarantined[0].party).toBe('liar');
    // The store still holds a result the liar computed before it was caught? Put one back, as a crash would leave it.
    const k = await shardKey(request(4));
    await results.put(k, { ...liar(1)(request(4)), provenance: { by: 'liar', start: 400, count: 100 } } as StoredShard);
    const again = createAudit(base({ remote: fakeRemote({ liar: liar(3), good: stating('node', honest) }), results, fraction: 1, resume: saved }));
    const out = await again.run(() => sampleAll(again, [request(4)]));
    expect(strip(out[0])).toEqual(strip(honest(request(4))));
    expect(again.provenance().shards[0].by).toBe('good');
  });

  it('detection probability for a worker corrupting a fraction q of its m shards is 1 - (1 - qF)^m', async () => {
    // The liar computes every shard first (it is first in line); each shard is corrupted with
    // probability q (a hash of the shard), each audited with probability F (the keyed choice).
    const m = 20, q = 0.2, F = 0.1, jobs = 300;
    let detected = 0;
    for (let j = 0; j < jobs; j++) {
      const corrupt: Party = (r) => {
        const h = honest(r);
        return ((r.start / 100) * 2654435761 + j * 40503) % 1000 < q * 1000 ? { ...h, counts: h.counts.map(([a, b, c]) => [a - 1, b + 1, c]) } : h;
      };
      const audit = createAudit(base({ remote: fakeRemote({ liar: stating('node', corrupt), good: stating('node', honest) }), fraction: F, key: key(1000 + j) }));
      await audit.run(() => sampleAll(audit, Array.from({ length: m }, (_, i) => request(j * m + i))));
      if (audit.status().mismatches.length > 0) detected++;
    }
    const p = 1 - (1 - q * F) ** m;
    const sd = Math.sqrt((p * (1 - p)) / jobs);
    expect(Math.abs(detected / jobs - p)).toBeLessThan(4 * sd);
  });
});
