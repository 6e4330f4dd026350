/**
 * Test hooks for the Queue path, off unless IRS_FAULTS is set (wrangler dev --var): the fault
 * tests of the job object inject them the way the Node fan-out tests use a faulty proxy.
 *   throwRate  the consumer throws on this share of deliveries (at random: a redelivery is a new draw)
 *   duplicate  the job object sends every shard message twice
 *   failWhere  every delivery of a shard with these request fields throws
 *   lie        a second, lying consumer named `as` in this isolate: it computes this share of
 *              shards (chosen by shard key), unless the message avoids it or it is quarantined,
 *              and moves a vote between classes (or shifts a disagreement count) in every one
 */
import type { ShardResponse, WorkerIdentity } from '../../src/protocol/schemas.ts';
import type { ShardMessage } from './env.ts';

export interface Faults {
  throwRate?: number;
  duplicate?: boolean;
  failWhere?: { stream?: number; start?: number };
  lie?: { rate: number; as: string };
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

/** Who computes this message here: the isolate itself, or the lying consumer of the hooks. */
export function actingParty(faults: Faults, body: ShardMessage, me: WorkerIdentity): WorkerIdentity {
  const lie = faults.lie;
  if (!lie || !body.request) return me;
  const owned = parseInt(body.key.slice(0, 8), 16) / 2 ** 32 < lie.rate; // the shard key before any audit slot suffix
  const out = [...(body.avoid ?? []), ...(body.quarantined ?? [])];
  return owned && !out.includes(lie.as) ? { ...me, id: lie.as } : me;
}

/** The lying consumer's answer: one vote moved from each input's top class, or one disagreement fewer. */
export function lieAbout(r: ShardResponse): ShardResponse {
  const out = structuredClone(r);
  if (out.disagreements && out.disagreements.some((d) => d > 0)) {
    out.disagreements = out.disagreements.map((d) => Math.max(0, d - 1));
    return out;
  }
  out.counts = out.counts.map((c) => {
    const top = c.indexOf(Math.max(...c));
    if (c[top] === 0) return c;
    const moved = [...c];
    moved[top]--;
    moved[(top + 1) % c.length]++;
    return moved;
  });
  return out;
}
