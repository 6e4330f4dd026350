/** The errors the HTTP layer maps to status codes; each class carries its own (src/errors.ts). */
export { Busy, Conflict, NotFound } from '../errors.ts';
