/**
 * A model "quantized" the way dynamic quantization does it: the input activation goes through
 * DynamicQuantizeLinear, whose scale and zero point come from the min and max of the whole
 * batch tensor, so a sample's prediction depends on its batch-mates.
 */
import { decodeModel, encodeModel, makeNode } from '../../src/onnx/model.ts';

export function dynamicallyQuantizedInput(floatModel: Uint8Array): Uint8Array {
  const model = decodeModel(floatModel);
  const graph = model.graph!;
  const input = graph.input![0].name!;
  for (const n of graph.node!) n.input = n.input!.map((x) => (x === input ? 'dq_input' : x));
  graph.node = [
    makeNode('DynamicQuantizeLinear', [input], ['q_input', 'q_scale', 'q_zp'], 'dynamic_quantize'),
    makeNode('DequantizeLinear', ['q_input', 'q_scale', 'q_zp'], ['dq_input'], 'dequantize'),
    ...graph.node!,
  ];
  return encodeModel(model);
}
