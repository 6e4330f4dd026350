/**
 * `irs compress`: the standard compressed variants of an ONNX classifier, in TypeScript on the
 * ONNX graph. Every output records its source model's sha256, the method and its parameters
 * in the model's metadata, and is loaded and run once before it is returned.
 */
import { UserError } from '../../errors.ts';
import { loadClassifier, type BackendName } from '../../inference/index.ts';
import { fillGaussianNoise } from '../../noise/gaussian.ts';
import { sha256Hex } from '../../util/digest.ts';
import { calibrateRanges } from '../calibrate.ts';
import { decodeModel, encodeModel, getMetadata, inputShape, validateGraph, opTypes, quantizationEvidence, setMetadata, weightedNodes, type ModelProto } from '../model.ts';
import { convertToFloat16Graph, roundWeightsToFp16 } from './fp16.ts';
import { quantizeInt8, tensorsToCalibrate } from './int8.ts';
import { pruneGlobalMagnitude } from './prune.ts';

export const METHODS = ['int8', 'fp16', 'fp16-native', 'prune'] as const;
export type Method = (typeof METHODS)[number];

/** Calibration stream for noisy calibration inputs: apart from every certification stream. */
const CALIBRATION_STREAM = 0x43414c; // "CAL"

export interface Calibration {
  source: string;
  inputs: Float32Array[];
  /** Gaussian noise added to calibration inputs, so ranges cover what smoothing feeds the model. */
  sigma: number;
  seed?: number;
}

export interface CompressOptions {
  method: Method;
  /** prune: fraction of weights to zero. */
  amount?: number;
  /** int8: calibration set. */
  calibration?: Calibration;
  /** Runtime used for calibration and the final load check. */
  backend: BackendName;
}

export interface CompressReport {
  method: Method;
  params: Record<string, string | number>;
  sourceSha256: string;
  sha256: string;
  bytesBefore: number;
  bytesAfter: number;
  sparsity?: number;
  quantizedNodes?: number;
}

export async function compressModel(bytes: Uint8Array, o: CompressOptions): Promise<{ bytes: Uint8Array; report: CompressReport }> {
  if (!(METHODS as readonly string[]).includes(o.method)) throw new UserError(`unknown method '${o.method}'; choose one of ${METHODS.join(', ')}`);
  const sourceSha256 = await sha256Hex(bytes);
  const model = decodeModel(bytes);
  validateGraph(model);
  const graph = model.graph!;
  const custom = [...opTypes(graph)].filter((t) => t.includes('.'));
  if (custom.length) throw new UserError(`model uses operators outside the ONNX domain (${custom.join(', ')}); ${o.method} supports standard ONNX graphs`);
  const quantized = quantizationEvidence(graph);
  if (quantized) throw new UserError(`model is already quantized (${quantized}); ${o.method} needs a float32 model`);
  if ((o.method === 'int8' || o.method === 'prune') && weightedNodes(graph).length === 0) {
    throw new UserError(`model has no Conv, Gemm or MatMul with float32 weights for ${o.method}`);
  }

  const params: Record<string, string | number> = {};
  const report: Partial<CompressReport> = {};
  if (o.method === 'prune') {
    if (o.amount === undefined || !(o.amount > 0 && o.amount < 1)) throw new UserError(`prune needs --amount in (0, 1), got ${o.amount}`);
    params.amount = o.amount;
    report.sparsity = pruneGlobalMagnitude(model, o.amount).sparsity;
  } else if (o.method === 'fp16') {
    roundWeightsToFp16(model);
  } else if (o.method === 'fp16-native') {
    convertToFloat16Graph(model);
  } else {
    const cal = o.calibration;
    if (!cal || cal.inputs.length === 0) throw new UserError('int8 needs a calibration set (--calibration)');
    const sigma = cal.sigma;
    const inputs = sigma > 0 ? withNoise(cal.inputs, sigma, cal.seed ?? 0) : cal.inputs;
    const shape = inputShape(model);
    const ranges = await calibrateRanges(bytes, tensorsToCalibrate(graph), inputs, shape, o.backend);
    report.quantizedNodes = quantizeInt8(model, ranges).quantizedNodes;
    Object.assign(params, { calibration: cal.source, calibrationCount: cal.inputs.length, calibrationSigma: sigma, activations: 'uint8 asymmetric static', weights: 'int8 symmetric per-channel' });
  }
  setMetadata(model, {
    'irs-edge.source-sha256': sourceSha256,
    'irs-edge.method': o.method,
    'irs-edge.params': JSON.stringify(params),
  });
  const out = encodeModel(model);
  await checkLoads(out, o.backend, inputShape(model));
  return {
    bytes: out,
    report: { method: o.method, params, sourceSha256, sha256: await sha256Hex(out), bytesBefore: bytes.length, bytesAfter: out.length, ...report },
  };
}

/** The training sigma a bundled model records in its metadata, if any. */
export function trainingSigma(bytes: Uint8Array): number | undefined {
  const s = Number(getMetadata(decodeModel(bytes)).sigma);
  return Number.isFinite(s) && s > 0 ? s : undefined;
}

function withNoise(inputs: Float32Array[], sigma: number, seed: number): Float32Array[] {
  return inputs.map((x, i) => {
    const noise = new Float32Array(x.length);
    fillGaussianNoise(noise, { seed, stream: CALIBRATION_STREAM }, i, 1, x.length, sigma);
    return Float32Array.from(x, (v, e) => v + noise[e]);
  });
}

async function checkLoads(bytes: Uint8Array, backend: BackendName, shape: number[]): Promise<void> {
  let classifier;
  try {
    classifier = await loadClassifier(bytes, backend);
  } catch (e) {
    throw new UserError(`the ${backend} runtime cannot load the compressed model: ${(e as Error).message}`);
  }
  try {
    const size = shape.reduce((a, b) => a * b, 1);
    await classifier.classify(new Float32Array(2 * size), 2, new Int32Array(2));
  } catch (e) {
    throw new UserError(`the ${backend} runtime cannot run the compressed model: ${(e as Error).message}`);
  } finally {
    await classifier.dispose();
  }
}
