/** Strict parsers for numeric CLI options: a bad value is an error naming the option. */
import { InvalidArgumentError } from 'commander';

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
export function backendName(v: string): 'wasm' | 'node' | 'webgpu' {
  if (v !== 'wasm' && v !== 'node' && v !== 'webgpu') throw new InvalidArgumentError(`choose wasm, node or webgpu, got '${v}'.`);
  return v;
}
