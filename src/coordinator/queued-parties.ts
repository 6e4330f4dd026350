/**
 * A queue's consumers as parties of the audit layer (audit.ts), for a driver that does not wait
 * for shards (the Workers job object). A queue cannot be told which consumer takes a message,
 * so the consumers are one open pool: each states an identity (its isolate) with its result,
 * and a request that must avoid some parties goes out as its own message, naming them.
 *
 * Every (shard, parties to avoid) pair has its own slot in the job's results: the plain shard
 * key when nobody is avoided (what an unaudited job stores), else the key and a digest of the
 * avoided names. dispatchVia reads the slot; an empty slot defers (ShardPending naming the slot),
 * so the job object queues it and, once it is stored, runs the job again: the audit layer then
 * replays every comparison from the stored slots and reaches the same verdicts.
 *
 * `avoid` is a request (a consumer that is avoided hands the message back to the queue a few
 * times, then computes it itself, and its identity is recorded: the provenance shows an audit by
 * the same party); `quarantined` is a rule (a quarantined consumer never computes for the job).
 */
import type { ObjectStore } from '../store/types.ts';
import type { ShardRequest, ShardResponse } from '../protocol/schemas.ts';
import { keys } from '../service/keys.ts';
import { canonicalJson, sha256Hex } from '../util/digest.ts';
import type { RoutedDispatcher } from './http-dispatcher.ts';
import { ShardPending, shardKey } from './sharded-sampler.ts';

/** The audit layer needs a worker list: the pool's one name never appears in an exclude set. */
const POOL = 'queue';

export function queuedParties(
  store: ObjectStore, job: { tenant: string; id: string }, quarantined: () => ReadonlySet<string>,
): RoutedDispatcher {
  const dispatchVia: RoutedDispatcher['dispatchVia'] = async (request, o = {}) => {
    const key = await shardKey(request);
    const avoid = [...(o.exclude ?? [])].sort();
    const slot = avoid.length === 0 ? key : `${key}-avoid-${(await sha256Hex(new TextEncoder().encode(canonicalJson(avoid)))).slice(0, 16)}`;
    const bytes = await store.get(keys.shardResult(job.tenant, job.id, slot));
    if (bytes) {
      const response = JSON.parse(new TextDecoder().decode(bytes)) as ShardResponse;
      return { response, worker: response.worker?.id ?? 'unknown' };
    }
    const hard = [...quarantined()].sort();
    throw new ShardPending({ key: slot, request, ...(avoid.length ? { avoid } : {}), ...(hard.length ? { quarantined: hard } : {}) });
  };
  return {
    workers: [POOL],
    dispatchVia,
    dispatch: async (request: ShardRequest) => (await dispatchVia(request)).response,
  };
}
