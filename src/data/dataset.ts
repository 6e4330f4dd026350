/** A labelled set of inputs in the model's input space (MNIST: [1, 28, 28] pixels in [0, 1]). */
export interface Dataset {
  /** How the user named it (`mnist:test`, `inputs.npy`), recorded in certificates. */
  readonly source: string;
  readonly size: number;
  /** Shape of one input, without the batch dimension. */
  readonly shape: readonly number[];
  /** Input i as a fresh or shared read-only view of `prod(shape)` float32 values. */
  input(i: number): Float32Array;
  /** Integer label of input i, or -1 when the dataset has no labels. */
  label(i: number): number;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The inputs a job certifies: Cohen's `--skip`/`--max` convention, i.e. every `skip`-th
 * index starting at `offset`, at most `count` of them.
 */
export function selectIndices(size: number, count: number, skip = 1, offset = 0): number[] {
  if (!Number.isInteger(skip) || skip < 1) throw new RangeError(`skip must be an integer >= 1, got ${skip}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer >= 1, got ${count}`);
  if (!Number.isInteger(offset) || offset < 0 || offset >= size) {
    throw new RangeError(`offset must be an integer in [0, ${size}), got ${offset}`);
  }
  const out: number[] = [];
  for (let i = offset; i < size && out.length < count; i += skip) out.push(i);
  return out;
}
