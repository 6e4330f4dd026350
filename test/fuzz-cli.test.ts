/**
 * Bad input to the CLI, fuzzed: 1,000 malformed invocations of certify, recertify, compress and tune (bad option values, missing or
 * unknown options, missing, corrupt or mismatched input files). Each must exit 2 with a message,
 * never crash (exit 1) or succeed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { encodeNpy } from '../src/protocol/npy-codec.ts';
import { philox4x32 } from '../src/noise/philox.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const RUNS = 1000;
const MODEL = 'models/mnist-small-s0.50.onnx';
const dir = mkdtempSync(join(tmpdir(), 'irs-cli-fuzz-'));
const at = (f: string) => join(dir, f);

class Choices {
  private i = 0;
  private readonly w = new Uint32Array(4);
  int(n: number): number {
    philox4x32(this.i++, 77, 0xc11, 0, 0xf00d, 0, this.w);
    return this.w[0] % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

describe('fuzzing the irs CLI', () => {
  beforeAll(async () => {
    const model = readFileSync(MODEL);
    writeFileSync(at('in.npy'), encodeNpy(new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28], '<f4'));
    writeFileSync(at('labels.npy'), encodeNpy([1, 2], [2], '<i8'));
    writeFileSync(at('labels3.npy'), encodeNpy([1, 2, 3], [3], '<i8'));
    writeFileSync(at('rgb.npy'), encodeNpy(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8], '<f4'));
    writeFileSync(at('trunc.npy'), encodeNpy(new Float32Array(2 * 784), [2, 1, 28, 28], '<f4').subarray(0, 500));
    writeFileSync(at('trunc.onnx'), model.subarray(0, 100_000));
    writeFileSync(at('random.onnx'), Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251));
    writeFileSync(at('text.json'), '{"format": "something else"}');
    writeFileSync(at('broken.json'), '{"format": "irs-edge/certificate@1", "kind": ');
    mkdirSync(at('a-directory'), { recursive: true });
    const ok = await runCli(['certify', '--model', MODEL, '--data', at('in.npy'), '--labels', at('labels.npy'), '--sigma', '0.5', '--n0', '5', '--n', '20', '--backend', TEST_BACKEND, '--quiet', '--out', at('cert.json')]);
    expect(ok.code).toBe(0);
    const cache = readFileSync(at('cert.cache'));
    writeFileSync(at('bad.cache'), cache.subarray(0, cache.length - 5));
  }, 60_000);

  it(`exits 2 with a message on ${RUNS} malformed invocations`, async () => {
    const ch = new Choices();
    const files = [at('nope.onnx'), at('trunc.onnx'), at('random.onnx'), at('text.json'), at('a-directory'), at('trunc.npy')];
    const certify: Record<string, readonly string[]> = {
      '--model': files, '--data': [at('nope.npy'), at('trunc.npy'), at('rgb.npy'), at('random.onnx'), 'cifar:test', 'mnist:', at('a-directory')],
      '--labels': [at('labels3.npy'), at('trunc.npy'), at('nope.npy'), at('rgb.npy')], '--sigma': ['0', '-1', 'abc', '', 'NaN', 'Infinity', '1e400'],
      '--n0': ['0', '-1', '1.5', 'x', '1e20'], '--n': ['0', '2.5', '-3', '99999999999'], '--alpha': ['0', '1', '-0.5', '2', 'x'],
      '--count': ['0', '-1', 'many'], '--skip': ['0', '1.5'], '--offset': ['-1', '99999'], '--seed': ['-1', '1.5', '9007199254740993', 'x'],
      '--batch': ['0', '-8', 'x'], '--backend': ['gpu', 'cuda', ''], '--threads': ['0', 'x'],
    };
    const recertify: Record<string, readonly string[]> = {
      '--original': [at('text.json'), at('broken.json'), at('nope.json'), at('in.npy'), at('a-directory')], '--cache': [at('bad.cache'), at('in.npy'), at('nope.cache')],
      '--model': files, '--np': ['0', '21', '-1', 'x', '1.5'], '--alpha-zeta': ['0', '1', 'x'], '--gamma': ['-0.1', '1.1', 'x'], '--sigma': ['0.25', '-1'],
      '--min-certified-accuracy': ['0.5', '1:2', 'x:y', '-1:0.5'], '--max-acr-drop': ['-1', 'x'],
      '--radius': ['-1', 'x', ''], '--radius-tolerance': ['-0.1', 'x'], '--first-stage': ['0', 'x', '99'],
      '--models': [`${MODEL},${MODEL}`, ',', at('nope.onnx'), `${MODEL},`],
    };
    const tune: Record<string, readonly string[]> = {
      '--model': files, '--original': [at('text.json'), at('broken.json'), at('nope.json'), at('a-directory')],
      '--candidates': ['int4', 'prune', 'prune:2', 'prune:0.1:3', 'fp16,fp16', '', ',', 'fp16:0.5'],
      '--min-certified-accuracy': ['0.5', 'x:y', '1:2', ''], '--np': ['0', '21', 'x'], '--first-stage': ['0', 'x', '11'],
      '--alpha-zeta': ['0', '1'], '--gamma': ['2'], '--backend': ['gpu'],
    };
    const compress: Record<string, readonly string[]> = {
      '--model': files, '--method': ['int4', '', 'PRUNE', 'quantize'], '--amount': ['0', '1', '-0.1', 'x'], '--calibration': [at('trunc.npy'), 'cifar:train', at('nope.npy')],
      '--calibration-count': ['0', 'x'], '--calibration-sigma': ['-1', 'x'],
    };
    const base = {
      certify: ['--model', MODEL, '--data', at('in.npy'), '--labels', at('labels.npy'), '--sigma', '0.5', '--n0', '5', '--n', '20', '--backend', TEST_BACKEND, '--quiet', '--out', at('x.json')],
      recertify: ['--original', at('cert.json'), '--model', MODEL, '--np', '10', '--backend', TEST_BACKEND, '--quiet', '--out', at('y.json')],
      compress: ['--model', MODEL, '--method', 'prune', '--amount', '0.1', '--backend', TEST_BACKEND, '--out', at('z.onnx')],
      tune: ['--model', MODEL, '--original', at('cert.json'), '--candidates', 'fp16', '--min-certified-accuracy', '0.5:0.5', '--np', '10', '--backend', TEST_BACKEND, '--quiet', '--out', at('t')],
    };
    const bad = { certify, recertify, compress, tune };
    const outcomes = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      const command = ch.pick(['certify', 'recertify', 'compress', 'tune'] as const);
      const args = [...base[command]];
      const kind = ch.int(10);
      if (kind === 0) {
        const required = {
          certify: ['--model', '--data', '--sigma', '--out'], recertify: ['--original', '--model', '--out'], compress: ['--model', '--method', '--out'],
          tune: ['--model', '--original', '--candidates', '--min-certified-accuracy', '--out'],
        }[command];
        const drop = args.indexOf(ch.pick(required));
        args.splice(drop, 2);
      } else if (kind === 1) {
        args.push(ch.pick(['--colour', '--n-p', '-x', '--', '--sigma']), ch.pick(['1', '']));
        if (args[args.length - 2] === '--sigma') args[args.length - 1] = '-1';
      } else {
        for (let k = 0; k <= ch.int(2); k++) {
          const opts = bad[command];
          const opt = ch.pick(Object.keys(opts));
          const value = ch.pick(opts[opt]);
          const at_ = args.indexOf(opt);
          if (at_ >= 0) args[at_ + 1] = value;
          else args.push(opt, value);
        }
      }
      const r = await runCli([command, ...args]);
      outcomes.set(r.code, (outcomes.get(r.code) ?? 0) + 1);
      expect(r.code, `irs ${command} ${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr.trim().length, `irs ${command} ${args.join(' ')}`).toBeGreaterThan(10);
    }
    expect(outcomes.get(2)).toBe(RUNS);
  }, 300_000);
});
