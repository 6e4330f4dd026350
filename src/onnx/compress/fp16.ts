/**
 * Two float16 variants:
 * - `fp16` (the IRS paper's): weights rounded to float16, stored and computed as float32;
 * - `fp16-native`: a true float16 graph (float16 initializers and activations), with Casts at
 *   the float32 inputs and outputs so callers are unchanged. Runtimes without float16 kernels
 *   for an op (onnxruntime's x86 CPU provider, for most) run it through inserted Casts.
 */
import toFloat16 from '@stdlib/number-float64-base-to-float16';
import { DataType, floatValues, makeNode, makeTensor, setFloatValues, type ModelProto } from '../model.ts';

export function roundWeightsToFp16(model: ModelProto): { tensors: number } {
  let tensors = 0;
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT) continue;
    const v = floatValues(t);
    for (let i = 0; i < v.length; i++) v[i] = toFloat16(v[i]);
    setFloatValues(t, v);
    tensors++;
  }
  return { tensors };
}

/** IEEE-754 binary16 bits of the float16 nearest to x (round to nearest, ties to even). */
export function float16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const v = toFloat16(x);
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24); // subnormal
  const e = Math.floor(Math.log2(a));
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

export function convertToFloat16Graph(model: ModelProto): { tensors: number } {
  const graph = model.graph!;
  let tensors = 0;
  graph.initializer = (graph.initializer ?? []).map((t) => {
    if (t.dataType !== DataType.FLOAT) return t;
    tensors++;
    const bits = Uint16Array.from(floatValues(t), float16Bits);
    return makeTensor(t.name!, DataType.FLOAT16, (t.dims ?? []).map(Number), bits);
  });
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.t && a.t.dataType === DataType.FLOAT) {
        a.t = makeTensor(a.t.name ?? '', DataType.FLOAT16, (a.t.dims ?? []).map(Number), Uint16Array.from(floatValues(a.t), float16Bits));
      }
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT) a.i = DataType.FLOAT16;
    }
  }
  for (const vi of graph.valueInfo ?? []) {
    if (vi.type?.tensorType?.elemType === DataType.FLOAT) vi.type.tensorType.elemType = DataType.FLOAT16;
  }
  const head: ReturnType<typeof makeNode>[] = [];
  for (const input of graph.input ?? []) {
    if (input.type?.tensorType?.elemType !== DataType.FLOAT || (graph.initializer ?? []).some((t) => t.name === input.name)) continue;
    const half = `${input.name}_fp16`;
    for (const n of graph.node ?? []) n.input = n.input!.map((x) => (x === input.name ? half : x));
    head.push(makeNode('Cast', [input.name!], [half], `${input.name}_to_fp16`, { to: DataType.FLOAT16 }));
  }
  const tail: ReturnType<typeof makeNode>[] = [];
  for (const output of graph.output ?? []) {
    if (output.type?.tensorType?.elemType !== DataType.FLOAT) continue;
    const half = `${output.name}_fp16`;
    for (const n of graph.node ?? []) {
      n.output = n.output!.map((x) => (x === output.name ? half : x));
      n.input = n.input!.map((x) => (x === output.name ? half : x));
    }
    tail.push(makeNode('Cast', [half], [output.name!], `${output.name}_to_fp32`, { to: DataType.FLOAT }));
  }
  graph.node = [...head, ...(graph.node ?? []), ...tail];
  return { tensors };
}
