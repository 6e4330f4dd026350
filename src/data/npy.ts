/** Datasets from .npy files on disk (Node). */
import { readFileSync } from 'node:fs';
import type { Dataset } from './dataset.ts';
import { elementCount } from './dataset.ts';
import { UserError } from '../errors.ts';
import { parseNpy } from '../protocol/npy-codec.ts';

export { encodeNpy, parseNpy, type NpyArray } from '../protocol/npy-codec.ts';

export function loadNpyDataset(inputsPath: string, labelsPath?: string): Dataset {
  const inputs = parseNpy(readFile(inputsPath), inputsPath);
  if (inputs.shape.length < 2) throw new UserError(`${inputsPath}: expected shape [N, ...input shape], got (${inputs.shape.join(', ')})`);
  const [size, ...shape] = inputs.shape;
  const per = elementCount(shape);
  for (let i = 0; i < inputs.values.length; i++) {
    if (!Number.isFinite(inputs.values[i])) throw new UserError(`${inputsPath}: value ${i} is not finite`);
  }
  let labels: Int32Array | undefined;
  if (labelsPath) {
    const l = parseNpy(readFile(labelsPath), labelsPath);
    if (l.shape.length !== 1 || l.shape[0] !== size) {
      throw new UserError(`${labelsPath}: expected ${size} labels of shape (${size},), got (${l.shape.join(', ')})`);
    }
    labels = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const v = l.values[i];
      if (!Number.isInteger(v) || v < 0) throw new UserError(`${labelsPath}: label ${i} is ${v}, not a non-negative integer`);
      labels[i] = v;
    }
  }
  const data = inputs.values;
  return {
    source: inputsPath,
    size,
    shape,
    input: (i: number) => Float32Array.from(data.subarray(i * per, (i + 1) * per)),
    label: (i: number) => (labels ? labels[i] : -1),
  };
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
