/**
 * Static int8 quantization in QDQ form (QuantizeLinear/DequantizeLinear pairs), which
 * onnxruntime fuses into integer kernels (QLinearConv, QGemm, QLinearMatMul):
 * - weights of Conv, Gemm and MatMul: int8, symmetric, per output channel;
 * - biases: int32 at scale (input scale x weight scale), as onnxruntime's own quantizer does;
 * - activations entering and leaving those nodes: uint8, asymmetric, with scales fixed from a
 *   calibration set. Nothing is computed from the batch at run time, so a sample's prediction
 *   never depends on the other samples in its batch (IRS replay needs that).
 * A graph output stays float (the last layer's logits keep full precision).
 */
import { DataType, dims, floatAttribute, floatValues, intAttribute, makeNode, makeTensor, weightedNodes, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../model.ts';
import type { Range } from '../calibrate.ts';

export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 asymmetric parameters covering [min(0, lo), max(0, hi)]. */
export function activationParams(r: Range): ActivationParams {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** Per-channel symmetric int8 weights: the channel axis holds output channels. */
export function quantizeWeights(w: Float32Array, shape: number[], axis: number): { q: Int8Array; scales: Float32Array } {
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(channels);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  for (let i = 0; i < w.length; i++) scales[channelOf(i)] = Math.max(scales[channelOf(i)], Math.abs(w[i]));
  for (let c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scales[channelOf(i)])));
  return { q, scales };
}

/** The tensors whose ranges int8 needs: the activation inputs and outputs of weighted nodes. */
export function tensorsToCalibrate(graph: GraphProto): string[] {
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const names = new Set<string>();
  for (const { node } of weightedNodes(graph)) {
    names.add(node.input![0]);
    if (!outputs.has(node.output![0])) names.add(node.output![0]);
  }
  return [...names];
}

/** Output-channel axis of the weight of a Conv (0), Gemm (0 if transB else 1) or MatMul (1). */
function channelAxis(node: NodeProto): number {
  if (node.opType === 'Conv') return 0;
  if (node.opType === 'Gemm') return intAttribute(node, 'transB', 0) ? 0 : 1;
  return 1;
}

export function quantizeInt8(model: ModelProto, ranges: Map<string, Range>): { quantizedNodes: number } {
  const graph = model.graph!;
  const weighted = weightedNodes(graph);
  const initializers = graph.initializer!;
  const keep = new Set<TensorProto>();
  const newNodes = new Map<NodeProto, { before: NodeProto[]; after: NodeProto[] }>();
  const qdq = new Map<string, string>(); // float tensor -> its dequantized twin
  const floatOf = new Map<string, string>(); // dequantized twin -> float tensor
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));
  let uid = 0;

  const addActivationQdq = (tensor: string, into: NodeProto[]): string => {
    if (floatOf.has(tensor)) return tensor; // already the dequantized twin of a quantized output
    const existing = qdq.get(tensor);
    if (existing) return existing;
    const r = ranges.get(tensor);
    if (!r) throw new Error(`no calibration range for ${tensor}`);
    const { scale, zeroPoint } = activationParams(r);
    const id = `irs_q${uid++}`;
    initializers.push(makeTensor(`${id}_scale`, DataType.FLOAT, [], Float32Array.of(scale)));
    initializers.push(makeTensor(`${id}_zp`, DataType.UINT8, [], Uint8Array.of(zeroPoint)));
    into.push(makeNode('QuantizeLinear', [tensor, `${id}_scale`, `${id}_zp`], [`${id}_q`], `${id}_Quantize`));
    into.push(makeNode('DequantizeLinear', [`${id}_q`, `${id}_scale`, `${id}_zp`], [`${id}_dq`], `${id}_Dequantize`));
    qdq.set(tensor, `${id}_dq`);
    floatOf.set(`${id}_dq`, tensor);
    return `${id}_dq`;
  };

  for (const { node, weight } of weighted) {
    const before: NodeProto[] = [];
    const after: NodeProto[] = [];
    const input = node.input![0];
    const xScale = activationParams(ranges.get(floatOf.get(input) ?? input)!).scale;
    const xDq = addActivationQdq(input, before);

    const shape = dims(weight);
    const axis = channelAxis(node);
    const { q, scales } = quantizeWeights(floatValues(weight), shape, axis);
    const id = `irs_w${uid++}`;
    initializers.push(makeTensor(`${id}_q`, DataType.INT8, shape, q));
    initializers.push(makeTensor(`${id}_scale`, DataType.FLOAT, [scales.length], scales));
    initializers.push(makeTensor(`${id}_zp`, DataType.INT8, [scales.length], new Int8Array(scales.length)));
    before.push(makeNode('DequantizeLinear', [`${id}_q`, `${id}_scale`, `${id}_zp`], [`${id}_dq`], `${id}_Dequantize`, { axis }));
    keep.add(weight);
    const inputs = [xDq, `${id}_dq`, ...node.input!.slice(2)];

    // Bias (Conv input 2, Gemm input C with alpha = beta = 1): int32 at scale x_scale * w_scale.
    const biasName = node.input![2];
    const bias = biasName ? initializers.find((t) => t.name === biasName && t.dataType === DataType.FLOAT) : undefined;
    const plainGemm = node.opType !== 'Gemm' || (floatAttribute(node, 'alpha', 1) === 1 && floatAttribute(node, 'beta', 1) === 1);
    if (bias && plainGemm && dims(bias).length === 1 && dims(bias)[0] === scales.length) {
      const b = floatValues(bias);
      const bScales = scales.map((s) => Math.fround(s * xScale));
      const bq = Int32Array.from(b, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / bScales[c]))));
      const bid = `irs_b${uid++}`;
      initializers.push(makeTensor(`${bid}_q`, DataType.INT32, [bq.length], bq));
      initializers.push(makeTensor(`${bid}_scale`, DataType.FLOAT, [bq.length], bScales));
      initializers.push(makeTensor(`${bid}_zp`, DataType.INT32, [bq.length], new Int32Array(bq.length)));
      before.push(makeNode('DequantizeLinear', [`${bid}_q`, `${bid}_scale`, `${bid}_zp`], [`${bid}_dq`], `${bid}_Dequantize`, { axis: 0 }));
      keep.add(bias);
      inputs[2] = `${bid}_dq`;
    }
    node.input = inputs;

    // Output: Q/DQ right after the node (unless it is a graph output), so the runtime fuses
    // DQ -> op -> Q into one integer kernel; consumers read the dequantized twin.
    const y = node.output![0];
    if (!graphOutputs.has(y)) {
      const yDq = addActivationQdq(y, after);
      for (const other of graph.node!) {
        if (other === node || after.includes(other)) continue;
        other.input = other.input!.map((n) => (n === y ? yDq : n));
      }
      after[0].input![0] = y;
    }
    newNodes.set(node, { before, after });
  }

  // Rebuild the node list in topological order: each weighted node's Q/DQ before and after it.
  const ordered: NodeProto[] = [];
  for (const node of graph.node!) {
    const extra = newNodes.get(node);
    if (extra) ordered.push(...extra.before, node, ...extra.after);
    else ordered.push(node);
  }
  graph.node = ordered;
  graph.initializer = initializers.filter((t) => !keep.has(t) || isStillUsed(t, ordered));
  return { quantizedNodes: weighted.length };
}

function isStillUsed(t: TensorProto, nodes: NodeProto[]): boolean {
  return nodes.some((n) => n.input!.includes(t.name!));
}
