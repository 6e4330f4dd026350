/**
 * Reading and writing ONNX ModelProto with the maintained protobuf bindings of `onnx-proto`
 * (protobufjs, ONNX schema v1.10: IR version 8). Fields newer than that schema are dropped on
 * re-encoding; the opsets models use here (13) are well inside it.
 */
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';
import { UserError } from '../errors.ts';

export const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type TensorProto = onnxProto.onnx.ITensorProto;

export const DataType = onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array, what = 'model'): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new UserError(`${what} is not an ONNX model (${(e as Error).message})`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) throw new UserError(`${what} is not an ONNX model (no graph)`);
  return model;
}

/**
 * Bytes of the model's FLOAT16 initializers, read from the wire format without decoding the model
 * (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.data_type = 2, raw_data = 9; a
 * tensor without raw_data counts its whole message): onnxruntime's CPU kernels have no float16,
 * so these weights are held in float32 as well (inference/memory-budget.ts). Decoding would hold
 * a second copy of the model at the moment memory matters most.
 */
export function float16InitializerBytes(bytes: Uint8Array): number {
  const FLOAT16 = 10;
  const fields = (buf: Uint8Array, visit: (field: number, r: protobuf.Reader, wire: number) => void) => {
    const r = protobuf.Reader.create(buf);
    while (r.pos < r.len) {
      const tag = r.uint32();
      visit(tag >>> 3, r, tag & 7);
    }
  };
  let total = 0;
  try {
    fields(bytes, (field, model, wire) => {
      if (field !== 7 || wire !== 2) return void model.skipType(wire);
      fields(model.bytes(), (gField, graph, gWire) => {
        if (gField !== 5 || gWire !== 2) return void graph.skipType(gWire);
        const tensor = graph.bytes();
        let dataType = 0;
        let raw = -1;
        fields(tensor, (tField, t, tWire) => {
          if (tField === 2 && tWire === 0) dataType = t.int32();
          else if (tField === 9 && tWire === 2) raw = t.bytes().length;
          else t.skipType(tWire);
        });
        if (dataType === FLOAT16) total += raw >= 0 ? raw : tensor.length;
      });
    });
  } catch (e) {
    throw new UserError(`model is not an ONNX model (${(e as Error).message})`);
  }
  return total;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The float32 values of a FLOAT tensor, from raw_data or float_data. */
export function floatValues(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`tensor ${t.name} is not float32`);
  if (t.rawData && t.rawData.length > 0) {
    // Copy into a fresh buffer: raw_data may be an unaligned view into the decoded bytes (and
    // in Node a Buffer, whose slice() does not copy).
    const copy = new Uint8Array(t.rawData.length);
    copy.set(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Replaces a FLOAT tensor's values (stored as little-endian raw_data). */
export function setFloatValues(t: TensorProto, values: Float32Array): void {
  t.rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  t.floatData = [];
}

export function setMetadata(model: ModelProto, entries: Record<string, string>): void {
  const props = (model.metadataProps ?? []).filter((p) => !(p.key! in entries));
  for (const [key, value] of Object.entries(entries)) props.push(onnx.StringStringEntryProto.create({ key, value }));
  model.metadataProps = props;
}

export function getMetadata(model: ModelProto): Record<string, string> {
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

export type NodeProto = onnxProto.onnx.INodeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export const AttributeType = onnx.AttributeProto.AttributeType;

/** protobufjs decodes int64 as Long objects; shapes and attributes here fit in a double. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** The per-sample shape of a model's first input: its dimensions after the (free) batch one. */
export function inputShape(model: ModelProto): number[] {
  return model.graph!.input![0].type!.tensorType!.shape!.dim!.slice(1).map((d) => toNumber(d.dimValue as number));
}

export function dims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d as number));
}

export function attribute(node: NodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? toNumber(a.i as number) : fallback;
}

export function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? (a.f ?? fallback) : fallback;
}

export function makeNode(opType: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, number> = {}): NodeProto {
  return onnx.NodeProto.create({
    opType, input: inputs, output: outputs, name,
    attribute: Object.entries(attrs).map(([n, i]) => onnx.AttributeProto.create({ name: n, type: AttributeType.INT, i })),
  });
}

type TypedValues = Float32Array | Int8Array | Uint8Array | Int32Array | Uint16Array;

/** An initializer with raw little-endian data. */
export function makeTensor(name: string, dataType: number, shape: number[], values: TypedValues): TensorProto {
  const raw = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return onnx.TensorProto.create({ name, dataType, dims: shape, rawData: raw });
}

/** Initializers by name. */
export function initializerMap(graph: GraphProto): Map<string, TensorProto> {
  return new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
}

/** Op types of a graph, with the domain where it is not the default ONNX one. */
export function opTypes(graph: GraphProto): Set<string> {
  return new Set((graph.node ?? []).map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType ?? '')));
}

const QUANTIZED_OPS = new Set([
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'MatMulInteger', 'ConvInteger',
  'com.microsoft.QGemm', 'com.microsoft.QLinearAdd', 'com.microsoft.DynamicQuantizeMatMul',
]);

/** Why a model counts as already quantized, or undefined. */
export function quantizationEvidence(graph: GraphProto): string | undefined {
  const ops = [...opTypes(graph)].filter((o) => QUANTIZED_OPS.has(o));
  if (ops.length) return `it contains ${ops.join(', ')}`;
  const ints = (graph.initializer ?? []).filter((t) => t.dataType === DataType.INT8 || t.dataType === DataType.UINT8);
  if (ints.length) return `it has 8-bit integer initializers (${ints.slice(0, 3).map((t) => t.name).join(', ')})`;
  return undefined;
}

/** The weight-bearing nodes compression acts on: Conv, Gemm, MatMul with a FLOAT initializer as input 1. */
export function weightedNodes(graph: GraphProto): { node: NodeProto; weight: TensorProto }[] {
  const inits = initializerMap(graph);
  const out: { node: NodeProto; weight: TensorProto }[] = [];
  for (const node of graph.node ?? []) {
    if (!['Conv', 'Gemm', 'MatMul'].includes(node.opType ?? '') || (node.domain && node.domain !== 'ai.onnx')) continue;
    const w = inits.get(node.input?.[1] ?? '');
    if (w && w.dataType === DataType.FLOAT) out.push({ node, weight: w });
  }
  return out;
}

const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2,
  [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4, [DataType.UINT64]: 8, [DataType.BFLOAT16]: 2,
};

/**
 * Structural checks a decodable but damaged model fails (a truncated upload can still decode):
 * every node input is produced before it is used, every graph output is produced, and every
 * initializer's raw data has the size its shape and type say.
 */
export function validateGraph(model: ModelProto, what = 'model'): void {
  const graph = model.graph!;
  const known = new Set<string>(['']);
  for (const i of graph.input ?? []) known.add(i.name ?? '');
  for (const t of graph.initializer ?? []) {
    known.add(t.name ?? '');
    const width = ELEMENT_BYTES[t.dataType ?? 0];
    if (width && t.rawData && t.rawData.length > 0) {
      const count = dims(t).reduce((a, b) => a * b, 1);
      if (t.rawData.length !== count * width) {
        throw new UserError(`${what} is damaged: initializer ${t.name} holds ${t.rawData.length} bytes, its shape [${dims(t).join(', ')}] needs ${count * width}`);
      }
    }
  }
  for (const n of graph.node ?? []) {
    for (const input of n.input ?? []) {
      if (!known.has(input)) throw new UserError(`${what} is damaged or not topologically sorted: node ${n.name || n.opType} reads ${input}, which nothing produces before it`);
    }
    for (const output of n.output ?? []) known.add(output);
  }
  for (const o of graph.output ?? []) {
    if (!known.has(o.name ?? '')) throw new UserError(`${what} is damaged: graph output ${o.name} is never produced`);
  }
  if ((graph.input ?? []).length === 0 || (graph.output ?? []).length === 0) throw new UserError(`${what} has no graph inputs or outputs`);
}
