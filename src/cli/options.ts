/** Strict parsers for numeric CLI options: a bad value is an error naming the option. */
import { InvalidArgumentError } from 'commander';
import { MIN_ALPHA } from '../stats/index.ts';
import { BACKEND_CHOICES, listChoices, parseBackendChoice, type BackendChoice } from '../inference/backend.ts';

function num(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`'${v}' is not a finite number.`);
  return x;
}

export function positiveNumber(v: string): number {
  const x = num(v);
  if (!(x > 0)) throw new InvalidArgumentError(`must be > 0, got ${v}.`);
  return x;
}

export function nonNegativeNumber(v: string): number {
  const x = num(v);
  if (!(x >= 0)) throw new InvalidArgumentError(`must be >= 0, got ${v}.`);
  return x;
}

export function openUnit(v: string): number {
  const x = num(v);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError(`must be in (0, 1), got ${v}.`);
  return x;
}

/** alpha, alpha_zeta: in [MIN_ALPHA, 1), where the bounds are verified sound. */
export function failureProbability(v: string): number {
  const x = openUnit(v);
  if (x < MIN_ALPHA) throw new InvalidArgumentError(`must be at least ${MIN_ALPHA} (smaller failure probabilities are not verified sound), got ${v}.`);
  return x;
}

/** --audit: a fraction of shards in (0, 1]. */
export function auditFraction(v: string): number {
  const x = num(v);
  if (!(x > 0 && x <= 1)) throw new InvalidArgumentError(`the fraction of shards to recompute must be in (0, 1], got ${v}.`);
  return x;
}

export function closedUnit(v: string): number {
  const x = num(v);
  if (!(x >= 0 && x <= 1)) throw new InvalidArgumentError(`must be in [0, 1], got ${v}.`);
  return x;
}

export function positiveInt(v: string): number {
  const x = num(v);
  if (!Number.isSafeInteger(x) || x < 1) throw new InvalidArgumentError(`must be an integer >= 1, got ${v}.`);
  return x;
}

export function nonNegativeInt(v: string): number {
  const x = num(v);
  if (!Number.isSafeInteger(x) || x < 0) throw new InvalidArgumentError(`must be an integer >= 0, got ${v}.`);
  return x;
}

/** Sample counts are bounded by the noise counter (2^32 per stream). */
export function sampleCount(v: string): number {
  const x = positiveInt(v);
  if (x > 2 ** 32) throw new InvalidArgumentError(`must be at most 2^32, got ${v}.`);
  return x;
}

/** webgpu needs a runtime with navigator.gpu (Deno: bin/irs-deno.ts); loading says so where there is none. */
export function backendName(v: string): BackendChoice {
  const choice = parseBackendChoice(v, BACKEND_CHOICES);
  if (!choice) throw new InvalidArgumentError(`choose ${listChoices(BACKEND_CHOICES)}, got '${v}'.`);
  return choice;
}

/** Comma-separated worker URLs (http or https), each named once. */
export function workerUrls(v: string): string[] {
  const urls = v.split(',').map((x) => x.trim());
  for (const u of urls) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(u).protocol);
    } catch { /* not a URL */ }
    if (!ok) throw new InvalidArgumentError(`'${u}' is not an http(s) URL (comma-separated, e.g. http://w1:8787,http://w2:8787).`);
  }
  if (new Set(urls).size !== urls.length) throw new InvalidArgumentError(`'${v}' names a worker twice.`);
  return urls;
}
