/**
 * Activation ranges for static quantization: run the float model on calibration inputs with
 * the tensors of interest exposed as extra graph outputs, and keep each tensor's min and max.
 */
import { ortBackend, type BackendName } from '../inference/index.ts';
import { decodeModel, encodeModel, onnx } from './model.ts';
import { UserError } from '../errors.ts';

export interface Range {
  min: number;
  max: number;
}

/**
 * Inputs per calibration run. Every calibrated activation of the batch comes back at once, so
 * the batch is bounded by the input size: 64 for MNIST and CIFAR inputs (as before), 1 for
 * ImageNet's 150,528 values, where 32 inputs at once took ResNet-50's calibration to 6 GB of
 * resident memory on onnxruntime-node (0.77 GB now; wasm memory is capped at 4 GiB). Min and
 * max do not depend on it.
 */
export function calibrationBatch(inputShape: readonly number[]): number {
  const size = inputShape.reduce((a, b) => a * b, 1);
  return Math.max(1, Math.min(64, Math.floor(2 ** 18 / size)));
}

export async function calibrateRanges(
  modelBytes: Uint8Array, tensors: readonly string[], inputs: readonly Float32Array[], inputShape: readonly number[],
  backend: BackendName, batchSize = calibrationBatch(inputShape),
): Promise<Map<string, Range>> {
  const model = decodeModel(modelBytes);
  const graph = model.graph!;
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  for (const name of tensors) {
    if (!existing.has(name)) {
      graph.output!.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
    }
  }
  const { ort, sessionOptions } = await ortBackend(backend);
  const session = await ort.InferenceSession.create(encodeModel(model), sessionOptions);
  const ranges = new Map<string, Range>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  const size = inputShape.reduce((a, b) => a * b, 1);
  try {
    for (let first = 0; first < inputs.length; first += batchSize) {
      const b = Math.min(batchSize, inputs.length - first);
      const data = new Float32Array(b * size);
      for (let s = 0; s < b; s++) data.set(inputs[first + s], s * size);
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [b, ...inputShape]) }, [...tensors]);
      for (const t of tensors) {
        const r = ranges.get(t)!;
        for (const v of out[t].data as Float32Array) {
          if (v < r.min) r.min = v;
          if (v > r.max) r.max = v;
        }
      }
    }
  } finally {
    await session.release();
  }
  for (const [t, r] of ranges) {
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new UserError(`calibration saw non-finite values in tensor ${t}`);
  }
  return ranges;
}
