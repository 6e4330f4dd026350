/**
 * What every route group shares: the Hono environment (the tenant the token named), the
 * service's configuration and caches, the job driver, and the helpers that read a request.
 */
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import type { JobDriver, ServiceConfig } from '../service/runtime.ts';
import { NotFound } from '../service/errors.ts';
import type { ClassifierCache } from '../service/models.ts';
import type { InputsCache } from '../service/shard.ts';
import { describeIssues } from '../protocol/schemas.ts';

/** Set by the /v1/* middleware (http/app.ts): the tenant, and a signed shard request's signature. */
export type HttpEnv = { Variables: { tenant: string; signature?: { timestamp?: string; signature?: string } } };

/** One service's state, handed to each route group. */
export interface HttpDeps {
  cfg: ServiceConfig;
  classifiers: ClassifierCache;
  inputsCache: InputsCache;
  jobs: JobDriver;
}

export const MB = 1024 * 1024;

/** A body limit answering 413 with the JSON error every route answers with (and a hint, where one helps). */
export const limit = (bytes: number, hint = '') => bodyLimit({ maxSize: bytes, onError: (c) => c.json({ error: `request body exceeds ${bytes} bytes${hint}` }, 413) });

/** The JSON body checked against a request schema (400 naming the field otherwise). */
export async function body<T>(c: Context, schema: z.ZodType<T>, text?: string): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? (await c.req.text()));
  } catch {
    throw new UserError('request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error));
  return parsed.data;
}

export async function bytesOf(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.arrayBuffer());
}

/** A path parameter becomes part of a store key: only hex ids and hashes pass. */
export function sanitize(id: string): string {
  if (!/^[0-9a-f]{32,64}$/.test(id)) throw new NotFound(`no such id ${id.slice(0, 80)}`);
  return id;
}
