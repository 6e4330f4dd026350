/**
 * Test hooks for the Queue path, off unless IRS_FAULTS is set (wrangler dev --var): the fault
 * tests of the job object inject them the way the Node fan-out tests use a faulty proxy.
 *   throwRate  the consumer throws on this share of deliveries (at random: a redelivery is a new draw)
 *   duplicate  the job object sends every shard message twice
 *   failWhere  every delivery of a shard with these request fields throws
 */
import type { ShardMessage } from './env.ts';

export interface Faults {
  throwRate?: number;
  duplicate?: boolean;
  failWhere?: { stream?: number; start?: number };
}

export function parseFaults(spec: string | undefined): Faults {
  if (!spec) return {};
  try {
    return JSON.parse(spec) as Faults;
  } catch {
    throw new Error(`IRS_FAULTS is not JSON: ${spec.slice(0, 80)}`);
  }
}


/** Throws when the hooks say this delivery fails. */
export function injectFault(faults: Faults, message: { body: ShardMessage }): void {
  const w = faults.failWhere;
  const r = message.body.request;
  if (w && r && (w.stream === undefined || w.stream === r.stream) && (w.start === undefined || w.start === r.start)) {
    throw new Error(`injected fault: this shard always fails (stream ${r.stream}, start ${r.start})`);
  }
  if (faults.throwRate && Math.random() < faults.throwRate) throw new Error('injected fault: consumer threw');
}
