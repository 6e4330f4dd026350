/**
 * Errors whose class fixes what they mean on every face, the way hono's HTTPException carries
 * its status: one HTTP status (functions), one exit code (the `irs` CLI), and a message that
 * names the request field it is about (`np: ...`, `original: ...`; the CLI adds the flag).
 * One translator per face reads them: the HTTP onError, the CLI's main(), and the job
 * document's failure message (coordinator/job-machine.ts jobFailureMessage). Anything else
 * escaping is a bug (500, exit 1).
 */

/**
 * Exit codes of `irs`: 0 done, 1 an internal error (a bug: please report it), 2 bad input;
 * 3: a check ran and the model failed it (check-batch-invariance, verify), or an original
 *    certificate and its cache do not hold together (recertify, tune: IntegrityError);
 * 4: the recertified model misses the release criteria (--min-certified-accuracy, --max-acr-drop);
 * 5: --audit could not settle a mismatch between shard workers (no majority of two, or no
 *    party left to ask): no certificate is written;
 * 6: a service this run depends on is unavailable or refused (object store, shard workers).
 */
export const EXIT = { ok: 0, internal: 1, usage: 2, checkFailed: 3, gateFailed: 4, auditFailed: 5, unavailable: 6 } as const;

/** An error with a fixed meaning: its HTTP status and CLI exit code come with its class. */
export class KnownError extends Error {
  override name = 'KnownError';
  /** What the HTTP functions answer. */
  readonly status: number = 500;
  /** What `irs` exits with. */
  readonly exitCode: number = EXIT.internal;
}

/**
 * What the user asked for is wrong (bad option, wrong file, mismatched inputs): 400, exit 2.
 * The message starts with the request field it is about, where there is one (`np: ...`).
 */
export class UserError extends KnownError {
  override name = 'UserError';
  override readonly status: number = 400;
  override readonly exitCode: number = EXIT.usage;
}

/** Something the request names does not exist (a model, a certificate, stored inputs): 404, exit 2. */
export class NotFound extends UserError {
  override name = 'NotFound';
  override readonly status: number = 404;
}

/** What was sent is too large for this runtime (a model its memory cannot load): 413, exit 2. */
export class TooLarge extends UserError {
  override name = 'TooLarge';
  override readonly status: number = 413;
}

/** The request conflicts with what is stored (an original's cache is missing, or is another's): 409, exit 2. */
export class Conflict extends UserError {
  override name = 'Conflict';
  override readonly status: number = 409;
}

/**
 * A certificate or cache that does not hold together (an id that its contents do not give, a
 * cache header that disagrees with the certificate's parameters): 409, exit 3.
 */
export class IntegrityError extends UserError {
  override name = 'IntegrityError';
  override readonly status: number = 409;
  override readonly exitCode: number = EXIT.checkFailed;
}

/** The service is at its limit: try again later (429). */
export class Busy extends KnownError {
  override name = 'Busy';
  override readonly status: number = 429;
  override readonly exitCode: number = EXIT.unavailable;
}

/** The request field a message is about: `np` of `np: 401 exceeds ...` (see UserError). */
export function fieldOf(message: string): string | undefined {
  return /^([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*): /.exec(message)?.[1];
}
