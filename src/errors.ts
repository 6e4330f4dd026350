/**
 * An error caused by what the user asked for (bad option, wrong file, mismatched cache):
 * the CLI prints its message and exits non-zero; the HTTP layer answers 4xx with it.
 * Anything else escaping is a bug.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * A certificate or cache that does not hold together (an id that its contents do not give, a
 * cache whose header disagrees with the certificate's parameters): the CLI exits 3, the HTTP
 * layer answers 4xx (it is a UserError).
 */
export class IntegrityError extends UserError {
  override name = 'IntegrityError';
}
