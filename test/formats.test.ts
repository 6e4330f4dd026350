import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeCache, encodeCache, type CacheHeader } from '../src/protocol/cache-codec.ts';
import { encodeNpy, parseNpy } from '../src/data/npy.ts';
import { parseIdx } from '../src/data/mnist.ts';
import { radius3, timedelta } from '../src/cli/io.ts';
import { decodeModel, floatValues, getMetadata, DataType } from '../src/onnx/model.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import toFloat16 from '@stdlib/number-float64-base-to-float16';
import { TOOL } from '../src/version.ts';
import { sha256Hex } from '../src/util/digest.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const header = (samples: number, inputs: number): CacheHeader => ({
  certificateId: 'abc', modelSha256: 'f'.repeat(64), inputsSha256: 'e'.repeat(64), sigma: 0.5, seed: 1,
  noise: 'x', n: samples, alpha: 0.001, samples, inputs,
});

describe('IRS cache codec', () => {
  it('round-trips predictions, including NO_CLASS and classes > 127, storing only exceptions', () => {
    const preds = new Int16Array(5000).fill(3);
    preds[0] = 7; preds[17] = -1; preds[4999] = 999; preds[300] = 0;
    const entries = [
      { cA: 3, pALower: 0.987654321, predictions: preds },
      { cA: -1, pALower: 0, predictions: new Int16Array(5000).fill(-1) },
    ];
    const bytes = encodeCache(header(5000, 2), entries);
    // header + per input (cA, pA_lower, count) + 2-4 bytes per exception
    expect(bytes.length).toBeLessThan(9 + JSON.stringify(header(5000, 2)).length + 2 * 12 + 4 * 4);
    const back = decodeCache(bytes);
    expect(back.header).toEqual(header(5000, 2));
    expect(back.entries).toEqual(entries);
  });

  it('refuses truncated, corrupted and foreign files with a message', () => {
    const bytes = encodeCache(header(100, 1), [{ cA: 1, pALower: 0.9, predictions: new Int16Array(100).fill(2) }]);
    expect(() => decodeCache(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
    expect(() => decodeCache(new TextEncoder().encode('{"format": "json"}'))).toThrow(/not an irs-edge cache/);
    const extra = new Uint8Array(bytes.length + 1);
    extra.set(bytes);
    expect(() => decodeCache(extra)).toThrow(/trailing/);
  });
});

describe('.npy and IDX parsing', () => {
  it('round-trips float32 inputs and int64 labels', () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i / 7);
    const back = parseNpy(encodeNpy(x, [2, 3, 4], '<f4'), 'x.npy');
    expect(back.shape).toEqual([2, 3, 4]);
    expect(back.values).toEqual(x);
    expect([...parseNpy(encodeNpy([3, 1, 4], [3], '<i8'), 'y.npy').values]).toEqual([3, 1, 4]);
  });

  it('names the problem in malformed files', () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3]), 'bad.npy')).toThrow(/bad.npy: not a NumPy/);
    const good = encodeNpy(new Float32Array(6), [2, 3], '<f4');
    expect(() => parseNpy(good.subarray(0, good.length - 4), 't.npy')).toThrow(/expected 24 data bytes/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 9, 1]), 'x')).toThrow(/truncated/);
  });
});

describe('Cohen TSV columns', () => {
  it('prints radii to 3 significant digits, never rounded up', () => {
    expect(radius3(0.12349)).toBe('0.123');
    expect(radius3(0.1236)).toBe('0.123');
    expect(radius3(0.99951)).toBe('0.999');
    expect(radius3(1.5)).toBe('1.5');
    expect(radius3(0)).toBe('0.0');
    for (let i = 0; i < 2000; i++) {
      const r = Math.exp(Math.sin(i) * 3);
      expect(Number(radius3(r))).toBeLessThanOrEqual(r);
      expect(Number(radius3(r))).toBeGreaterThan(r * 0.98);
    }
  });

  it('prints times like Python timedelta', () => {
    expect(timedelta(1.234567)).toBe('0:00:01.234567');
    expect(timedelta(3725)).toBe('1:02:05');
  });
});

describe('ONNX fp16 weight rounding', () => {
  it('rounds every float initializer to a float16 value, records its source, and leaves the input bytes alone', async () => {
    const bytes = readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url));
    const before = await sha256Hex(bytes);
    const out = (await compressModel(bytes, { method: 'fp16', backend: TEST_BACKEND })).bytes;
    expect(await sha256Hex(bytes)).toBe(before);
    const model = decodeModel(out);
    let changed = 0;
    const original = decodeModel(bytes);
    model.graph!.initializer!.forEach((t, i) => {
      if (t.dataType !== DataType.FLOAT) return;
      const v = floatValues(t);
      const o = floatValues(original.graph!.initializer![i]);
      expect(v.length).toBe(o.length);
      for (let k = 0; k < v.length; k++) {
        expect(v[k]).toBe(toFloat16(v[k]));
        expect(Math.abs(v[k] - o[k])).toBeLessThanOrEqual(Math.abs(o[k]) * 2 ** -11 + 2 ** -25);
        if (v[k] !== o[k]) changed++;
      }
    });
    expect(changed).toBeGreaterThan(1000);
    expect(getMetadata(model)['irs-edge.source-sha256']).toBe(before);
  });

  it('refuses bytes that are not an ONNX model', () => {
    expect(() => decodeModel(new TextEncoder().encode('hello world, not a model'))).toThrow(/not an ONNX model/);
  });
});

describe('package metadata', () => {
  it('records the package version in certificates', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(TOOL).toEqual({ name: pkg.name, version: pkg.version });
  });
});
