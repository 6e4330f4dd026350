/** Errors the HTTP layer maps to status codes (UserError -> 400). */
import { UserError } from '../errors.ts';

export class NotFound extends UserError {
  override name = 'NotFound';
}

export class Conflict extends UserError {
  override name = 'Conflict';
}

/** The service is at its limit: try again later (429). */
export class Busy extends Error {
  override name = 'Busy';
}
