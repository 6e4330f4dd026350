/**
 * Is the model a fixed function of one input? IRS replays f's noise on f^p and compares
 * predictions sample by sample, and shards batch samples freely, so a prediction must not
 * depend on which other samples share its batch. Dynamic activation quantization (scales
 * computed over the whole batch) breaks this; this check catches it.
 *
 * Probes: the given inputs plus noisy copies, and two outliers (the first input scaled by
 * +-1e4 and shifted) that move any batch-wide statistic. Each probe's prediction alone
 * (batch of 1) is compared with its prediction inside batches of several sizes and orders,
 * each batch also holding an outlier.
 */
import type { Classifier } from './classifier.ts';
import { fillGaussianNoise } from '../noise/gaussian.ts';

export interface BatchInvarianceReport {
  ok: boolean;
  /** Probe predictions compared. */
  checked: number;
  mismatches: number;
  /** The first mismatch, in words. */
  detail?: string;
}

const PROBE_STREAM = 0x505242; // "PRB": apart from every certification stream

export function makeProbes(inputs: readonly Float32Array[], sigma: number, copies = 4): Float32Array[] {
  const probes: Float32Array[] = [];
  inputs.forEach((x, i) => {
    probes.push(x);
    const noise = new Float32Array(x.length);
    for (let c = 0; c < copies; c++) {
      fillGaussianNoise(noise, { seed: i, stream: PROBE_STREAM }, c, 1, x.length, sigma);
      probes.push(Float32Array.from(x, (v, e) => v + noise[e]));
    }
  });
  return probes;
}

export async function checkBatchInvariance(classifier: Classifier, probes: readonly Float32Array[]): Promise<BatchInvarianceReport> {
  const dim = classifier.inputSize;
  // Outliers far outside any input range: a batch-wide min/max or mean then moves a lot.
  const outliers = [Float32Array.from(probes[0], (v) => 1e4 * v + 100), Float32Array.from(probes[0], (v) => -1e4 * v - 100)];
  const run = async (batch: readonly Float32Array[]) => {
    const x = new Float32Array(batch.length * dim);
    batch.forEach((p, i) => x.set(p, i * dim));
    const out = new Int32Array(batch.length);
    await classifier.classify(x, batch.length, out);
    return out;
  };
  const alone: number[] = [];
  for (const p of probes) alone.push((await run([p]))[0]);
  let checked = 0;
  let mismatches = 0;
  let detail: string | undefined;
  const sizes = [2, 3, 8, probes.length];
  for (const size of sizes) {
    for (const reversed of [false, true]) {
      const order = probes.map((_, i) => i);
      if (reversed) order.reverse();
      for (let first = 0; first < order.length; first += size - 1) {
        const members = order.slice(first, first + size - 1);
        const outlier = outliers[(first / (size - 1)) % 2];
        const preds = await run([...members.map((i) => probes[i]), outlier]);
        members.forEach((probe, k) => {
          checked++;
          if (preds[k] !== alone[probe]) {
            mismatches++;
            detail ??= `probe ${probe} is class ${alone[probe]} alone but class ${preds[k]} in a batch of ${members.length + 1}`;
          }
        });
      }
    }
  }
  return { ok: mismatches === 0, checked, mismatches, detail };
}
