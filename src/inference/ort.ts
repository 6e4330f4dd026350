/**
 * A Classifier over any onnxruntime JavaScript binding: onnxruntime-web and onnxruntime-node
 * implement the same onnxruntime-common API, so one class serves both.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { argmax, type BackendName, type Classifier } from './classifier.ts';
import { UserError } from '../errors.ts';
import type { AdapterInfo, OrtModule } from './backend.ts';

export type { OrtModule } from './backend.ts';

export class OrtClassifier implements Classifier {
  readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly maxBatch: number;
  numClasses: number | undefined;
  private readonly inputName: string;
  private readonly outputName: string;

  private constructor(
    readonly backend: BackendName,
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    readonly adapter?: AdapterInfo,
  ) {
    const input = session.inputMetadata[0];
    const output = session.outputMetadata[0];
    if (!input || !input.isTensor) throw new UserError('model has no tensor input');
    if (!output || !output.isTensor) throw new UserError('model has no tensor output');
    if (session.inputNames.length !== 1) {
      throw new UserError(`model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); a classifier takes one`);
    }
    this.inputName = input.name;
    this.outputName = output.name;
    const [batchDim, ...rest] = input.shape;
    if (batchDim === undefined || rest.length === 0) {
      throw new UserError(`model input '${input.name}' has shape [${input.shape.join(', ')}]; expected [batch, ...input shape]`);
    }
    if (rest.some((d) => typeof d !== 'number' || d < 1)) {
      throw new UserError(`model input '${input.name}' has symbolic non-batch dimensions [${input.shape.join(', ')}]; only the batch dimension may be dynamic`);
    }
    if (typeof batchDim === 'number' && batchDim !== 1 && batchDim > 0) {
      throw new UserError(`model input '${input.name}' has a fixed batch dimension of ${batchDim}; export it with a dynamic batch axis or batch 1`);
    }
    this.inputShape = rest as number[];
    this.inputSize = this.inputShape.reduce((a, b) => a * b, 1);
    this.maxBatch = batchDim === 1 ? 1 : Number.MAX_SAFE_INTEGER;
    const last = output.shape[output.shape.length - 1];
    this.numClasses = typeof last === 'number' && last > 0 ? last : undefined;
  }

  static async create(backend: BackendName, ort: OrtModule, modelBytes: Uint8Array, options: InferenceSession.SessionOptions, adapter?: AdapterInfo): Promise<OrtClassifier> {
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, options);
    } catch (e) {
      throw new UserError(`cannot load the model as ONNX: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      return new OrtClassifier(backend, ort, session, adapter);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  async classify(inputs: Float32Array, count: number, out: Int32Array): Promise<void> {
    const size = this.inputSize;
    for (let first = 0; first < count; first += this.maxBatch) {
      const b = Math.min(this.maxBatch, count - first);
      const data = inputs.subarray(first * size, (first + b) * size);
      const feeds = { [this.inputName]: new this.ort.Tensor('float32', data, [b, ...this.inputShape]) };
      const results = await this.session.run(feeds, [this.outputName]);
      const scores = results[this.outputName];
      const values = scores.data as Float32Array;
      if (values.length % b !== 0 || values.length === 0) {
        throw new UserError(`model output '${this.outputName}' has ${values.length} values for a batch of ${b}`);
      }
      const classes = values.length / b;
      if (this.numClasses === undefined) this.numClasses = classes;
      else if (classes !== this.numClasses) {
        throw new UserError(`model output '${this.outputName}' has ${classes} scores per input, expected ${this.numClasses}`);
      }
      for (let s = 0; s < b; s++) out[first + s] = argmax(values, s * classes, classes);
      scores.dispose?.();
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
