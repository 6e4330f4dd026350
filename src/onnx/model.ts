/**
 * Reading and writing ONNX ModelProto with the maintained protobuf bindings of `onnx-proto`
 * (protobufjs, ONNX schema v1.10: IR version 8). Fields newer than that schema are dropped on
 * re-encoding; the opsets models use here (13) are well inside it.
 */
import onnxProto from 'onnx-proto';
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
