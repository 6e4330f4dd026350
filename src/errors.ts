/**
 * An error caused by what the user asked for (bad option, wrong file, mismatched cache):
 * the CLI prints its message and exits non-zero; the HTTP layer answers 4xx with it.
 * Anything else escaping is a bug.
 */
export class UserError extends Error {
  override name = 'UserError';
}
