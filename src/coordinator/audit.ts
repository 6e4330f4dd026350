/**
 * Spot-check audits of shard results ("trust no worker"). A shard is a pure function of its
 * request (counter-based noise), so any party can recompute it and must get the same bytes on
 * the same backend. This module is a layer any fan-out wraps around its dispatcher and its
 * results store (jobs API over HTTP, the CLI's --workers, later the Queue):
 *
 *   const audit = createAudit({ remote: httpDispatcher(...), local, results, fraction, backend });
 *   shardedSampler({ ..., dispatcher: audit.dispatcher, results: audit.results });
 *   const out = await audit.run(() => runCertifyJob({ ..., sampler }));
 *   certificate.provenance = audit.provenance();
 *
 * - Selection: a shard is audited when HMAC-SHA256(job key, shard key) < F (first 48 bits as
 *   a fraction). The key is random, drawn per job and kept in the aggregator's memory (never
 *   stored: workers may share the store; never sent), and an audit request is the very
 *   request the first worker got, so no worker can tell which shards are checked.
 * - An audited shard is recomputed by another party (another worker, or the aggregator) and
 *   compared exactly: histograms, predictions, disagreement counts. On a mismatch a third
 *   party (the aggregator by preference) recomputes it; the two that agree win, the odd one
 *   is quarantined for the rest of the job: it gets no more shards, every result it gave in
 *   this job is discarded (hidden from the store, and the job computation is run again by
 *   `run`, which recomputes just those shards elsewhere; the rest come from the store).
 * - Cross-backend audits are refused: while auditing, a party that states another backend
 *   than the job's (or none) is excluded, its results recomputed, and it is recorded as such.
 *   wasm and node can disagree on borderline samples, so an exact audit across them would
 *   quarantine honest workers, and a tolerant one would let a small lie through.
 * - The aggregator is one party among three, not above them: a majority of two decides. When
 *   all three disagree, or no third party is left, the job fails and says so.
 * - With fraction 0 the layer only records provenance: who computed each shard.
 */
import { checkResponse, shardKey, type ShardDispatcher, type ShardStore } from './sharded-sampler.ts';
// The audit selection keys on the sampler's own shard key; tests reach it from here.
export { shardKey };
import { PermanentShardError, type RoutedDispatcher } from './http-dispatcher.ts';
import type { ShardRequest, ShardResponse, WorkerIdentity } from '../protocol/schemas.ts';
import type { AuditStatus, Mismatch, Provenance, Quarantined, ShardRecord, StoredShard } from '../protocol/provenance.ts';
import { TOOL } from '../version.ts';

/** The party name of the aggregator's own computation. */
export const AGGREGATOR = 'aggregator';

export type { ShardRecord, StoredShard, Mismatch, Quarantined, AuditStatus, Provenance } from '../protocol/provenance.ts';

export interface AuditOptions {
  /** Shard workers (the fan-out). Any ShardDispatcher can be named as one party with asRouted. */
  remote?: RoutedDispatcher;
  /** The aggregator's own computation: auditor or third party, and the fallback when no worker is left. */
  local?: (request: ShardRequest) => Promise<ShardResponse>;
  /** The job's results store, wrapped so a quarantined party's results read as missing. */
  results?: ShardStore;
  /** Fraction of shards audited (0: provenance only). */
  fraction: number;
  auditor?: 'worker' | 'aggregator';
  /**
   * The secret key of the selection (default: 32 random bytes). Keep it in memory only: workers
   * may read the store. A restarted aggregator draws a new one, which is sound: stored shards
   * were audited or not when they were computed, and every later shard is still chosen with
   * probability F.
   */
  key?: Uint8Array;
  /** The job's backend: a party stating another is not audited across it but excluded. */
  backend: string;
  /** The status an earlier run of this job left (a resumed job keeps its quarantine). */
  resume?: AuditStatus;
  onChange?: (status: AuditStatus) => void;
  /** Most runs of the job computation (each quarantines a party); default parties + 2. */
  maxRounds?: number;
}

export interface Audit {
  dispatcher: ShardDispatcher;
  results?: ShardStore;
  /** Runs the job's computation until no result it used came from a quarantined party. */
  run<T>(compute: () => Promise<T>): Promise<T>;
  status(): AuditStatus;
  provenance(): Provenance;
}

/** Whether HMAC-SHA256(key, shard key), read as a fraction in [0, 1), is below `fraction`. */
export async function selectedForAudit(key: Uint8Array | CryptoKey, shard: string, fraction: number): Promise<boolean> {
  if (fraction <= 0) return false;
  const k = key instanceof Uint8Array ? await hmacKey(key) : key;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(shard)));
  let u = 0;
  for (let i = 0; i < 6; i++) u = u * 256 + mac[i];
  return u / 2 ** 48 < fraction;
}

function hmacKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** A plain dispatcher as one named party (it cannot be told to avoid anyone but itself). */
export function asRouted(d: ShardDispatcher, name = 'dispatcher'): RoutedDispatcher {
  if ('dispatchVia' in d) return d as RoutedDispatcher;
  return {
    workers: [name],
    dispatch: (r) => d.dispatch(r),
    async dispatchVia(r, o = {}) {
      if (o.exclude?.has(name)) throw new PermanentShardError('no shard worker left to send the shard to (all excluded)');
      return { response: await d.dispatch(r), worker: name };
    },
  };
}

/** Where two answers to one shard differ (first `limit`), `a` then `b`; empty when equal. */
export function shardDifferences(a: ShardResponse, b: ShardResponse, limit = 8): string[] {
  const out: string[] = [];
  const add = (s: string) => { if (out.length < limit) out.push(s); };
  if (a.model !== b.model || a.start !== b.start || a.count !== b.count) add(`shard: ${a.model.slice(0, 8)}[${a.start}+${a.count}] vs ${b.model.slice(0, 8)}[${b.start}+${b.count}]`);
  const k = Math.max(a.counts.length, b.counts.length);
  for (let i = 0; i < k; i++) {
    const ca = a.counts[i] ?? [], cb = b.counts[i] ?? [];
    for (let c = 0; c < Math.max(ca.length, cb.length); c++) if ((ca[c] ?? 0) !== (cb[c] ?? 0)) add(`input ${i}: counts[${c}] ${ca[c] ?? 0} vs ${cb[c] ?? 0}`);
    if ((a.predictions?.[i] ?? null) !== (b.predictions?.[i] ?? null)) add(`input ${i}: predictions differ`);
    if ((a.disagreements?.[i] ?? null) !== (b.disagreements?.[i] ?? null)) add(`input ${i}: disagreements ${a.disagreements?.[i] ?? 'none'} vs ${b.disagreements?.[i] ?? 'none'}`);
  }
  if (!!a.predictions !== !!b.predictions) add(`predictions ${a.predictions ? 'present' : 'absent'} vs ${b.predictions ? 'present' : 'absent'}`);
  if (!!a.disagreements !== !!b.disagreements) add(`disagreements ${a.disagreements ? 'present' : 'absent'} vs ${b.disagreements ? 'present' : 'absent'}`);
  return out;
}

interface Answer { party: string; response: ShardResponse }

const positions = (r: ShardRequest) => r.inputs.map((x) => ('index' in x ? x.index : -1));

export function createAudit(o: AuditOptions): Audit {
  const fraction = o.fraction;
  const auditing = fraction > 0;
  const secret = hmacKey(o.key ?? crypto.getRandomValues(new Uint8Array(32)));
  const localIdentity: WorkerIdentity = { id: AGGREGATOR, backend: o.backend, version: TOOL.version };
  const status: AuditStatus = o.resume ? structuredClone(o.resume) : {
    fraction, auditor: o.auditor ?? 'worker', backend: o.backend,
    selection: 'hmac-sha256(job key, shard key) < fraction', crossBackend: 'refused',
    selected: 0, compared: 0, agreed: 0, skipped: 0, mismatches: [], quarantined: [], discarded: 0, rounds: 0,
  };
  const quarantined = new Set(status.quarantined.map((q) => q.party));
  const discarded = new Set<string>(status.quarantined.flatMap((q) => q.discarded ?? []));
  const discard = (key: string, party: string) => {
    if (discarded.has(key)) return;
    discarded.add(key);
    status.discarded = discarded.size;
    status.quarantined.find((q) => q.party === party)?.discarded.push(key);
  };
  /** The shards the current round of the computation used, by key. */
  const used = new Map<string, ShardRecord>();
  const parties = (o.remote?.workers.length ?? 0) + (o.local ? 1 : 0);
  const changed = () => o.onChange?.(structuredClone(status));

  const quarantine = (party: string, reason: Quarantined['reason'], detail: string, stated?: WorkerIdentity) => {
    if (quarantined.has(party)) return;
    quarantined.add(party);
    status.quarantined.push({ party, reason, detail, ...(stated ? { stated } : {}), at: new Date().toISOString(), discarded: [] });
    changed();
  };

  /** Why an answer cannot be used (auditing only: without audits the sampler's own check applies). */
  const fault = (request: ShardRequest, a: Answer): [Quarantined['reason'], string] | undefined => {
    if (!auditing) return undefined;
    try {
      checkResponse(request, a.response);
    } catch (e) {
      return ['malformed', (e as Error).message];
    }
    const backend = a.response.worker?.backend;
    if (backend !== o.backend) return ['backend', backend ? `states backend ${backend}, the job runs on ${o.backend}: results across backends are not compared` : `states no backend (an older worker?); an audited job runs only on parties that state ${o.backend}`];
    return undefined;
  };

  /** One answer from a party outside `exclude` and the quarantine; undefined when none is left. */
  const compute = async (request: ShardRequest, exclude: ReadonlySet<string>, preferLocal: boolean): Promise<Answer | undefined> => {
    for (;;) {
      const out = new Set([...exclude, ...quarantined]);
      const remoteLeft = !!o.remote && o.remote.workers.some((w) => !out.has(w));
      const localLeft = !!o.local && !out.has(AGGREGATOR);
      let answer: Answer;
      if (localLeft && (preferLocal || !remoteLeft)) {
        answer = { party: AGGREGATOR, response: { worker: localIdentity, ...(await o.local!(request)) } };
      } else if (remoteLeft) {
        try {
          const d = await o.remote!.dispatchVia(request, { exclude: out });
          answer = { party: d.worker, response: d.response };
        } catch (e) {
          // Every remaining worker was quarantined while this request waited: go round again.
          if (e instanceof PermanentShardError && /all excluded/.test(e.message)) continue;
          throw e;
        }
      } else return undefined;
      if (quarantined.has(answer.party)) continue; // found faulty while this was in flight
      const why = fault(request, answer);
      if (why) {
        quarantine(answer.party, why[0], why[1], answer.response.worker);
        continue;
      }
      return answer;
    }
  };

  const describe = (request: ShardRequest) => `shard [${request.start}, ${request.start + request.count}) of stream ${request.stream}, inputs ${positions(request).join(',')}`;

  const dispatch = async (request: ShardRequest): Promise<StoredShard> => {
    const shard = await shardKey(request);
    const selected = auditing && (await selectedForAudit(await secret, shard, fraction));
    for (;;) {
      const first = await compute(request, new Set(), false);
      if (!first) throw new PermanentShardError(`no party left to compute ${describe(request)}: ${status.quarantined.map((q) => `${q.party} quarantined (${q.reason})`).join('; ')}`);
      let accepted = first;
      let audit: ShardRecord['audit'];
      if (selected) {
        status.selected++;
        const second = await compute(request, new Set([first.party]), status.auditor === 'aggregator');
        if (!second) {
          status.skipped++;
        } else {
          status.compared++;
          const diff = shardDifferences(first.response, second.response);
          if (diff.length === 0) {
            status.agreed++;
            audit = { by: second.party, agreed: true };
          } else {
            // Recompute a third time to find the wrong party; the aggregator referees by preference.
            const third = await compute(request, new Set([first.party, second.party]), true);
            if (!third) throw new PermanentShardError(`audit of ${describe(request)}: ${first.party} and ${second.party} disagree (${diff.join('; ')}) and no third party is left to tell which is wrong`);
            const withFirst = shardDifferences(third.response, first.response).length === 0;
            const withSecond = shardDifferences(third.response, second.response).length === 0;
            if (!withFirst && !withSecond) {
              throw new PermanentShardError(`audit of ${describe(request)}: ${first.party}, ${second.party} and ${third.party} give three different answers (${diff.join('; ')})`);
            }
            const [good, bad] = withFirst ? [first, second] : [second, first];
            status.mismatches.push({
              shard, stream: request.stream, start: request.start, count: request.count, inputs: positions(request),
              primary: first.party, auditor: second.party, referee: third.party, faulty: bad.party,
              ...(bad.response.worker ? { stated: bad.response.worker } : {}),
              differences: shardDifferences(bad.response, good.response),
            });
            quarantine(bad.party, 'mismatch', `${describe(request)} differs from ${good.party} and ${third.party}`, bad.response.worker);
            accepted = good;
            audit = { by: third.party, agreed: true, overruled: bad.party };
          }
        }
      }
      if (quarantined.has(accepted.party)) continue; // its party was caught elsewhere meanwhile
      const provenance: ShardRecord = {
        by: accepted.party, ...(accepted.response.worker ? { stated: accepted.response.worker } : {}),
        stream: request.stream, start: request.start, count: request.count, inputs: positions(request), ...(audit ? { audit } : {}),
      };
      used.set(shard, provenance);
      return { ...accepted.response, provenance };
    }
  };

  const results: ShardStore | undefined = o.results && {
    async get(key) {
      const r = (await o.results!.get(key)) as StoredShard | undefined;
      if (!r) return undefined;
      const record = r.provenance ?? { by: 'unknown', start: r.start, count: r.count };
      if (quarantined.has(record.by)) {
        discard(key, record.by);
        return undefined;
      }
      used.set(key, record);
      return r;
    },
    put: (key, r) => o.results!.put(key, r),
  };

  return {
    dispatcher: { dispatch },
    results,
    async run<T>(compute: () => Promise<T>): Promise<T> {
      const max = o.maxRounds ?? parties + 2;
      for (let round = 1; ; round++) {
        used.clear();
        status.rounds++;
        const out = await compute();
        const tainted = [...used].filter(([, r]) => quarantined.has(r.by));
        for (const [k, r] of tainted) discard(k, r.by);
        changed();
        if (tainted.length === 0) return out;
        if (round >= max) throw new PermanentShardError(`audits quarantined parties in ${round} rounds and results of quarantined parties remain; giving up`);
      }
    },
    status: () => structuredClone(status),
    provenance(): Provenance {
      const shards = [...used].map(([key, r]) => ({ key, ...r })).sort((a, b) => (a.stream ?? 0) - (b.stream ?? 0) || a.start - b.start || (a.inputs?.[0] ?? 0) - (b.inputs?.[0] ?? 0));
      return { parties: partyTotals(shards), shards, ...(auditing || status.quarantined.length ? { audit: structuredClone(status) } : {}) };
    },
  };
}

/** Per party: how many of these shards it computed and how many of those were audited. */
export function partyTotals(shards: Provenance['shards']): Provenance['parties'] {
  const byParty = new Map<string, Provenance['parties'][number]>();
  for (const s of shards) {
    const p = byParty.get(s.by) ?? { party: s.by, shards: 0, audited: 0 };
    if (s.stated) p.stated = s.stated;
    p.shards++;
    if (s.audit) p.audited++;
    byParty.set(s.by, p);
  }
  return [...byParty.values()];
}
