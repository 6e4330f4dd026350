/**
 * The deployment's variables (IRS_*), read the same way by every runtime entry in functions/
 * (node.ts, deno.ts, workers.ts): what each runtime adds (its store binding, its backend's
 * adapter, its job driver) it adds to this.
 *
 *   IRS_TOKENS        tenant:token,… (a secret in production)
 *   IRS_WORKER_TOKEN  secret shared by an aggregator and its shard workers
 *   IRS_WORKERS       shard workers to fan out to, comma-separated (none: shards run in process)
 *   IRS_STORE         object store URL (default file:./irs-data; store/url.ts)
 *   IRS_BACKEND       one of the runtime's backend choices (default auto, where the runtime offers it)
 *   IRS_HOST          address to listen on (default 127.0.0.1)
 *   IRS_PORT          port (default 8787)
 */
import { parseTokens } from '../service/runtime.ts';
import { listChoices, parseBackendChoice, type BackendChoice } from '../inference/backend.ts';

export interface IrsVars {
  IRS_TOKENS?: string;
  IRS_WORKER_TOKEN?: string;
  IRS_WORKERS?: string;
  IRS_STORE?: string;
  IRS_BACKEND?: string;
  IRS_HOST?: string;
  IRS_PORT?: string;
}

export interface EnvConfig<C extends BackendChoice = BackendChoice> {
  tokens: Map<string, string>;
  workerToken?: string;
  workers: string[];
  /** The object store's URL (store/url.ts openStore). */
  store: string;
  backend: C;
  host: string;
  port: number;
}

/** The service settings the variables give, with the backends this runtime offers (IRS_BACKEND must name one). */
export function configFromEnv<C extends BackendChoice>(env: IrsVars, backends: readonly C[]): EnvConfig<C> {
  const requested = env.IRS_BACKEND === undefined || env.IRS_BACKEND === '' ? (backends.find((b) => b === 'auto') ?? backends[0]) : env.IRS_BACKEND;
  const backend = parseBackendChoice(requested, backends);
  if (!backend) throw new Error(`IRS_BACKEND=${requested}: choose ${listChoices(backends)}`);
  return {
    tokens: parseTokens(env.IRS_TOKENS),
    workerToken: env.IRS_WORKER_TOKEN,
    workers: (env.IRS_WORKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    store: env.IRS_STORE ?? 'file:./irs-data',
    backend,
    host: env.IRS_HOST ?? '127.0.0.1',
    port: Number(env.IRS_PORT ?? 8787),
  };
}
