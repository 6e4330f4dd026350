/**
 * Global unstructured magnitude pruning: across the weights of every Conv, Gemm and MatMul,
 * zero the `amount` fraction with the smallest magnitude (the IRS paper's prune5/10/20).
 */
import { floatValues, setFloatValues, weightedNodes, type ModelProto } from '../model.ts';

export interface PruneReport {
  /** Weights considered. */
  weights: number;
  /** Weights zeroed by this pruning. */
  pruned: number;
  /** Fraction of the considered weights that are zero afterwards (including any zero before). */
  sparsity: number;
}

export function pruneGlobalMagnitude(model: ModelProto, amount: number): PruneReport {
  if (!(amount > 0 && amount < 1)) throw new RangeError(`prune amount must be in (0, 1), got ${amount}`);
  const tensors = weightedNodes(model.graph!).map(({ weight }) => ({ weight, values: floatValues(weight) }));
  // Each tensor once, even if two nodes share it.
  const unique = [...new Map(tensors.map((t) => [t.weight, t])).values()];
  const total = unique.reduce((s, t) => s + t.values.length, 0);
  const k = Math.floor(amount * total);
  const magnitudes = new Float32Array(total);
  let at = 0;
  for (const t of unique) for (const v of t.values) magnitudes[at++] = Math.abs(v);
  magnitudes.sort();
  const threshold = k > 0 ? magnitudes[k - 1] : -1;
  // Zero everything below the threshold, then ties at it in tensor order until k are zeroed.
  let below = 0;
  for (let i = 0; i < k; i++) if (magnitudes[i] < threshold) below++;
  let tiesLeft = k - below;
  let pruned = 0;
  let zeros = 0;
  for (const t of unique) {
    const v = t.values;
    for (let i = 0; i < v.length; i++) {
      const m = Math.abs(v[i]);
      if (m < threshold || (m === threshold && tiesLeft > 0)) {
        if (m === threshold) tiesLeft--;
        if (v[i] !== 0) pruned++;
        v[i] = 0;
      }
      if (v[i] === 0) zeros++;
    }
    setFloatValues(t.weight, v);
  }
  return { weights: total, pruned, sparsity: zeros / total };
}
