/**
 * Multiply-adds per sample of a float ONNX CNN: Conv and Gemm/MatMul, with spatial sizes
 * tracked through Conv and pooling along the graph. Enough for the bundled models (and any
 * plain Conv/Pool/Gemm stack); it refuses graphs it cannot follow rather than guess.
 */
import { attribute, decodeModel, dims, toNumber, type NodeProto } from '../src/onnx/model.ts';

function ints(node: NodeProto, name: string, fallback: number[]): number[] {
  const a = attribute(node, name);
  return a?.ints?.length ? a.ints.map(toNumber) : fallback;
}

export function multiplyAdds(bytes: Uint8Array, inputHW: [number, number] = [28, 28]): number {
  const graph = decodeModel(bytes).graph!;
  const weights = new Map(graph.initializer!.map((t) => [t.name!, dims(t)]));
  // Spatial size of each tensor on the path (undefined once flattened).
  const hw = new Map<string, [number, number]>();
  hw.set(graph.input![0].name!, inputHW);
  let macs = 0;
  for (const node of graph.node!) {
    const inHW = hw.get(node.input![0]);
    const out = node.output![0];
    switch (node.opType) {
      case 'Conv': {
        const [cout, cinPerGroup, kh, kw] = weights.get(node.input![1])!;
        if (!inHW) throw new Error(`cannot follow the spatial size into ${node.name}`);
        const [sh, sw] = ints(node, 'strides', [1, 1]);
        const [pt, pl, pb, pr] = ints(node, 'pads', [0, 0, 0, 0]);
        const oh = Math.floor((inHW[0] + pt + pb - kh) / sh) + 1;
        const ow = Math.floor((inHW[1] + pl + pr - kw) / sw) + 1;
        macs += oh * ow * cout * cinPerGroup * kh * kw;
        hw.set(out, [oh, ow]);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        if (!inHW) throw new Error(`cannot follow the spatial size into ${node.name}`);
        const [kh, kw] = ints(node, 'kernel_shape', [1, 1]);
        const [sh, sw] = ints(node, 'strides', [1, 1]);
        const [pt, pl, pb, pr] = ints(node, 'pads', [0, 0, 0, 0]);
        hw.set(out, [Math.floor((inHW[0] + pt + pb - kh) / sh) + 1, Math.floor((inHW[1] + pl + pr - kw) / sw) + 1]);
        break;
      }
      case 'Gemm':
      case 'MatMul': {
        const w = weights.get(node.input![1]);
        if (!w || w.length !== 2) throw new Error(`${node.opType} ${node.name} has no 2-D weight initializer`);
        macs += w[0] * w[1];
        break;
      }
      default:
        if (inHW) hw.set(out, inHW); // elementwise ops keep the size; Flatten ends it (Gemm needs none)
        if (node.opType === 'Flatten' || node.opType === 'Reshape') hw.delete(out);
    }
  }
  return macs;
}
