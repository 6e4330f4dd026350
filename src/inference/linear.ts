/**
 * A linear classifier f(x) = argmax_c (W x + b)_c in plain JavaScript. Its smoothed behaviour is
 * known in closed form, which makes it the ground truth for soundness tests and simulations:
 * for two classes, P(f(x + eps) = 1) = Phi((w.x + b) / (sigma |w|)) with w = W1 - W0, and the
 * smoothed classifier's exact robust radius is the distance |w.x + b| / |w| to the hyperplane.
 */
import { argmax, type Classifier } from './classifier.ts';

export class LinearClassifier implements Classifier {
  readonly backend = 'js' as const;
  readonly maxBatch = Number.MAX_SAFE_INTEGER;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  readonly inputSize: number;

  /** weights: numClasses rows of inputSize values. */
  constructor(readonly weights: readonly Float64Array[], readonly bias: readonly number[], inputShape?: readonly number[]) {
    this.numClasses = weights.length;
    this.inputSize = weights[0].length;
    this.inputShape = inputShape ?? [this.inputSize];
  }

  async classify(inputs: Float32Array, count: number, out: Int32Array): Promise<void> {
    const d = this.inputSize;
    const scores = new Float64Array(this.numClasses);
    for (let s = 0; s < count; s++) {
      for (let c = 0; c < this.numClasses; c++) {
        const w = this.weights[c];
        let z = this.bias[c];
        for (let e = 0; e < d; e++) z += w[e] * inputs[s * d + e];
        scores[c] = z;
      }
      out[s] = argmax(scores, 0, this.numClasses);
    }
  }

  async dispose(): Promise<void> {}
}
