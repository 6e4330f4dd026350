/**
 * Weights rounded to float16 and stored back as float32 (the IRS paper's "fp16": f^p computes
 * in float32 with half-precision weights).
 */
import toFloat16 from '@stdlib/number-float64-base-to-float16';
import { DataType, decodeModel, encodeModel, floatValues, setFloatValues, setMetadata } from './model.ts';
import { sha256Hex } from '../util/digest.ts';

export async function roundWeightsToFp16(bytes: Uint8Array): Promise<Uint8Array> {
  const model = decodeModel(bytes);
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT) continue;
    const v = floatValues(t);
    for (let i = 0; i < v.length; i++) v[i] = toFloat16(v[i]);
    setFloatValues(t, v);
  }
  setMetadata(model, { 'irs-edge.source-sha256': await sha256Hex(bytes), 'irs-edge.method': 'fp16' });
  return encodeModel(model);
}
