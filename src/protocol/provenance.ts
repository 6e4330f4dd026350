/**
 * A certificate's provenance (fan-out): who computed each shard, as the parties stated it, and
 * what the audits found (coordinator/audit.ts computes it). Part of the certificate document and
 * of a job's status, so it is a format, kept with the others.
 */
import type { ShardResponse, WorkerIdentity } from './schemas.ts';

/** Stored beside a shard result: who computed it, and its audit. */
export interface ShardRecord {
  /** The party that computed it: the worker URL the aggregator sent it to, or `aggregator`. */
  by: string;
  /** The identity the party stated (untrusted, recorded). */
  stated?: WorkerIdentity;
  stream?: number;
  start: number;
  count: number;
  /** Job input positions the shard covers. */
  inputs?: number[];
  /** Audited: recomputed by `by` and equal; `overruled`: the party whose different answer lost. */
  audit?: { by: string; agreed: boolean; overruled?: string };
}

export type StoredShard = ShardResponse & { provenance?: ShardRecord };

export interface Mismatch {
  shard: string;
  stream: number;
  start: number;
  count: number;
  inputs: number[];
  /** The party that computed the shard first, the auditor, and the third party. */
  primary: string;
  auditor: string;
  referee: string;
  /** The party outvoted two to one. */
  faulty: string;
  stated?: WorkerIdentity;
  /** What differed: the faulty party's value, then the agreed one. */
  differences: string[];
}

export interface Quarantined {
  party: string;
  reason: 'mismatch' | 'backend' | 'malformed';
  detail: string;
  stated?: WorkerIdentity;
  at: string;
  /** Its shard results thrown away (recomputed elsewhere), by shard key. */
  discarded: string[];
}

/** What a job's status says about its audits. */
export interface AuditStatus {
  fraction: number;
  auditor: 'worker' | 'aggregator';
  /** The job's backend: every audited comparison is on it. */
  backend: string;
  selection: 'hmac-sha256(job key, shard key) < fraction';
  crossBackend: 'refused';
  /** Shards selected for an audit, compared, agreed; selected with no independent party left. */
  selected: number;
  compared: number;
  agreed: number;
  skipped: number;
  mismatches: Mismatch[];
  quarantined: Quarantined[];
  /** Shard results thrown away because their party was quarantined (recomputed elsewhere). */
  discarded: number;
  /** Times the job's computation ran (more than 1: results of a quarantined party were recomputed). */
  rounds: number;
}

/** The certificate's provenance: who computed each shard of the final results. */
export interface Provenance {
  parties: { party: string; stated?: WorkerIdentity; shards: number; audited: number }[];
  shards: ({ key: string } & ShardRecord)[];
  audit?: AuditStatus;
}
