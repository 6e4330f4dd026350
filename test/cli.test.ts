import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runCli } from './helpers/cli.ts';
import { encodeNpy } from '../src/data/npy.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import type { Certificate } from '../src/protocol/certificate.ts';
import { HAS_ORT_NODE, TEST_BACKEND } from './helpers/backend.ts';

const MODEL = 'models/mnist-small-s0.50.onnx';
const dir = mkdtempSync(join(tmpdir(), 'irs-cli-'));
const at = (f: string) => join(dir, f);
const quick = ['--backend', TEST_BACKEND, '--quiet', '--n0', '20', '--n', '400', '--count', '3', '--skip', '97'];

describe('irs CLI: certify and recertify end to end (small n)', () => {
  let cert: Certificate;
  beforeAll(async () => {
    const r = await runCli(['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', ...quick, '--out', at('c.json'), '--tsv', at('c.tsv')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    cert = JSON.parse(readFileSync(at('c.json'), 'utf8'));
    writeFileSync(at('fp16.onnx'), (await compressModel(readFileSync(MODEL), { method: 'fp16', backend: TEST_BACKEND })).bytes);
  });

  it('writes a certificate naming the model hash and every parameter, and Cohen’s TSV', () => {
    expect(cert.kind).toBe('certify');
    expect(cert.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cert.params).toMatchObject({ sigma: 0.5, n0: 20, n: 400, alpha: 0.001, seed: 0, batchSize: 256, backend: TEST_BACKEND });
    expect(cert.data.indices).toEqual([0, 97, 194]);
    expect(cert.cache?.samples).toBe(400);
    const tsv = readFileSync(at('c.tsv'), 'utf8').trim().split('\n');
    expect(tsv[0]).toBe('idx\tlabel\tpredict\tradius\tcorrect\ttime');
    expect(tsv).toHaveLength(4);
    expect(tsv[1].split('\t')[0]).toBe('0');
  });

  it('picks the backend itself when --backend is not given (auto: node where installed), says which, and records it; --backend wasm still works', async () => {
    const args = ['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', '--n0', '20', '--n', '400', '--count', '3', '--skip', '97'];
    const auto = await runCli([...args, '--out', at('auto.json')]);
    expect(auto.code, auto.stderr).toBe(0);
    const expected = HAS_ORT_NODE ? 'node' : 'wasm';
    expect(auto.stderr).toContain(`backend: ${expected} (auto: onnxruntime-node ${HAS_ORT_NODE ? 'is installed and runs this model' : 'is not installed'})`);
    const autoCert: Certificate = JSON.parse(readFileSync(at('auto.json'), 'utf8'));
    expect(autoCert.params.backend).toBe(expected);
    const wasm = await runCli([...args, '--backend', 'wasm', '--out', at('wasm.json')]);
    expect(wasm.code, wasm.stderr).toBe(0);
    expect(wasm.stderr).toContain('backend: wasm (chosen with --backend)');
    const wasmCert: Certificate = JSON.parse(readFileSync(at('wasm.json'), 'utf8'));
    expect(wasmCert.params.backend).toBe('wasm');
    // The id leaves the backend out: on this model both backends give the same results.
    expect(wasmCert.id).toBe(autoCert.id);
    expect(wasmCert.id).toBe(cert.id);
  });

  it('recertifies the fp16 copy with IRS and reports zeta per zeta-branch input; --json prints a summary', async () => {
    const r = await runCli(['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '200', '--gamma', '1', '--backend', TEST_BACKEND, '--quiet', '--json', '--out', at('r.json')]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.kind).toBe('recertify');
    const rec: Certificate = JSON.parse(readFileSync(at('r.json'), 'utf8'));
    expect(rec.original?.id).toBe(cert.id);
    for (const x of rec.results) {
      if (x.branch === 'zeta') expect(x.zeta).toBeGreaterThan(0);
    }
    expect(rec.results.some((x) => x.branch === 'zeta')).toBe(true);
  });

  it('the baseline is a plain certification of f^p at alpha + alpha_zeta', async () => {
    const r = await runCli(['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '200', '--baseline', '--backend', TEST_BACKEND, '--quiet', '--out', at('b.json')]);
    expect(r.code).toBe(0);
    const b: Certificate = JSON.parse(readFileSync(at('b.json'), 'utf8'));
    expect(b.kind).toBe('baseline');
    expect(b.params).toMatchObject({ n: 200, n0: 20, alpha: 0.002 });
  });

  it('verify binds a certificate to the exact model bytes and to its cache', async () => {
    let r = await runCli(['verify', '--certificate', at('c.json'), '--model', MODEL, '--cache', at('c.cache')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/applies to/);
    r = await runCli(['verify', '--certificate', at('c.json'), '--model', at('fp16.onnx')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/DOES NOT APPLY\ncertificate [0-9a-f]+ is about the model with sha256/);
    r = await runCli(['verify', '--certificate', at('c.json'), '--model', MODEL, '--cache', at('fp16.onnx')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/is not the cache of certificate/);
  });

  it('every certificate states its guarantee, and verify shows it', async () => {
    expect(cert.guarantee).toMatchObject({ failureProbability: 0.001 });
    expect(cert.guarantee!.caveats.join(' ')).toMatch(/Voráček & Hein/);
    const rec: Certificate = JSON.parse(readFileSync(at('r.json'), 'utf8'));
    expect(rec.guarantee).toMatchObject({ failureProbability: 0.002 });
    expect(rec.guarantee!.derivation).toMatch(/alpha \+ alpha_zeta = 0.002/);
    const r = await runCli(['verify', '--certificate', at('c.json'), '--model', MODEL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/guarantee: per input, P\(reported class or radius wrong\) <= 0.001/);
    expect(r.stdout).toMatch(/caveats:\n  - Noise/);
  });

  it('recertify refuses an original that does not hold together: exit 3 and what differs', async () => {
    // A hand-edited alpha: the id no longer follows from the params.
    writeFileSync(at('edited.json'), JSON.stringify({ ...cert, params: { ...cert.params, alpha: 0.1 } }));
    writeFileSync(at('edited.cache'), readFileSync(at('c.cache')));
    let r = await runCli(['recertify', '--original', at('edited.json'), '--model', at('fp16.onnx'), '--np', '100', '--out', at('x.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/does not hold together: its kind, model, inputs and params give id/);
    // The same edit with the id recomputed to match: the cache header still says alpha 0.001.
    const { certificateId } = await import('../src/protocol/certificate.ts');
    const forged = { ...cert, params: { ...cert.params, alpha: 0.1 } };
    forged.id = await certificateId(forged);
    writeFileSync(at('forged.json'), JSON.stringify(forged));
    writeFileSync(at('forged.cache'), readFileSync(at('c.cache')));
    r = await runCli(['recertify', '--original', at('forged.json'), '--model', at('fp16.onnx'), '--np', '100', '--out', at('x.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cache header does not match certificate .*alpha 0.001 in the cache, 0.1 in the certificate/);
  });

  it('refuses failure probabilities below 1e-15 by name (exit 2)', async () => {
    const r = await runCli(['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', ...quick, '--alpha', '1e-16', '--out', at('x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--alpha.*must be at least 1e-15/);
  });

  describe('CI gate', () => {
    const recertify = (extra: string[]) => ['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '200', '--gamma', '1', '--backend', TEST_BACKEND, '--quiet', '--out', at('g.json'), ...extra];

    it('passes (exit 0) when the criteria hold, and prints each check', async () => {
      const r = await runCli(recertify(['--min-certified-accuracy', '0:0.3', '--max-acr-drop', '5']));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/PASS certified accuracy at r = 0/);
      expect(r.stdout).toMatch(/PASS ACR drop/);
    });

    it('fails with exit 4 and says why when certified accuracy is short or ACR drops too far', async () => {
      let r = await runCli(recertify(['--min-certified-accuracy', '0:0.3', '--min-certified-accuracy', '4:0.5']));
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/misses the release criteria:\nFAIL certified accuracy at r = 4: 0\.0000 \(at least 0\.5\)/);
      expect(r.stderr).not.toMatch(/r = 0:/);
      // IRS radii are sigma * Phi^-1(pA_lower - zeta) < the original's, so any drop budget of 0 fails.
      r = await runCli(recertify(['--max-acr-drop', '0']));
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/FAIL ACR drop against the original/);
      expect(readFileSync(at('g.json'), 'utf8')).toMatch(/"kind": "recertify"/); // the certificate is still written
    });

    it('--json carries the gate verdict for machines', async () => {
      const r = await runCli(recertify(['--json', '--min-certified-accuracy', '4:0.5']));
      expect(r.code).toBe(4);
      const out = JSON.parse(r.stdout);
      expect(out.gate.passed).toBe(false);
      expect(out.gate.checks[0]).toMatchObject({ criterion: 'certified accuracy at r = 4', required: 0.5, actual: 0, passed: false });
    });

    it('rejects a malformed criterion with exit 2', async () => {
      for (const bad of ['0.5', '0.5:1.5', 'a:b']) {
        const r = await runCli(recertify(['--min-certified-accuracy', bad]));
        expect(r.code, bad).toBe(2);
        expect(r.stderr).toMatch(/--min-certified-accuracy: .* is not RADIUS:ACCURACY/);
      }
    });
  });

  describe('refuses bad input with exit code 2 and a message naming the problem', () => {
    const certify = (extra: string[]) => ['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', ...quick, '--out', at('x.json'), ...extra];
    const cases: [string, () => string[], RegExp][] = [
      ['missing model file', () => ['certify', '--model', at('nope.onnx'), '--data', 'mnist:test', '--sigma', '0.5', '--out', at('x.json')], /cannot read model .*no such file/],
      ['a file that is not ONNX', () => ['certify', '--model', at('c.tsv'), '--data', 'mnist:test', '--sigma', '0.5', '--out', at('x.json')], /cannot load the model as ONNX/],
      ['sigma <= 0', () => certify(['--sigma', '0']), /--sigma.*must be > 0/],
      ['sigma not a number', () => certify(['--sigma', 'abc']), /--sigma.*not a finite number/],
      ['alpha outside (0, 1)', () => certify(['--alpha', '1.5']), /--alpha.*\(0, 1\)/],
      ['n0 < 1', () => certify(['--n0', '0']), /--n0.*integer >= 1/],
      ['n not an integer', () => certify(['--n', '10.5']), /--n .*integer >= 1/],
      ['unknown dataset', () => ['certify', '--model', MODEL, '--data', 'cifar:test', '--sigma', '0.5', '--out', at('x.json')], /unknown dataset cifar:test/],
      ['unknown backend', () => certify(['--backend', 'gpu']), /--backend.*wasm, node or webgpu/],
      ['webgpu where the runtime has none (Node)', () => certify(['--backend', 'webgpu']), /backend 'webgpu' needs a WebGPU adapter: this runtime has no navigator.gpu/],
      ['np > n of the original', () => ['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '401', '--out', at('x.json')], /np \(--np\): 401 exceeds the original certificate's 400 cached samples/],
      ['sigma differing from the original', () => ['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--sigma', '0.25', '--out', at('x.json')], /differs from the original/],
      ['a certificate that is not JSON', () => ['recertify', '--original', at('c.tsv'), '--model', at('fp16.onnx'), '--out', at('x.json')], /is not JSON/],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const r = await runCli(args());
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
      });
    }

    it('inputs of the wrong shape', async () => {
      writeFileSync(at('rgb.npy'), encodeNpy(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32], '<f4'));
      const r = await runCli(['certify', '--model', MODEL, '--data', at('rgb.npy'), '--sigma', '0.5', ...quick, '--out', at('x.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/model expects inputs of shape \[1, 28, 28\] \(784 values\) but .* has 3072/);
    });

    it('labels that do not match the inputs', async () => {
      writeFileSync(at('in.npy'), encodeNpy(new Float32Array(4 * 784), [4, 1, 28, 28], '<f4'));
      writeFileSync(at('lab.npy'), encodeNpy([1, 2, 3], [3], '<i8'));
      const r = await runCli(['certify', '--model', MODEL, '--data', at('in.npy'), '--labels', at('lab.npy'), '--sigma', '0.5', ...quick, '--out', at('x.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/expected 4 labels/);
    });

    it('a cache that does not belong to the certificate', async () => {
      const bytes = readFileSync(at('c.cache'));
      bytes[bytes.length - 9] ^= 1;
      writeFileSync(at('tampered.cache'), bytes);
      const r = await runCli(['recertify', '--original', at('c.json'), '--cache', at('tampered.cache'), '--model', at('fp16.onnx'), '--np', '100', '--out', at('x.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/original \(--original\): the IRS cache of certificate [0-9a-f]+ does not match it/);
    });

    it('a certificate whose inputs no longer match the data', async () => {
      const moved = { ...cert, data: { ...cert.data, indices: [1, 98, 195] } };
      writeFileSync(at('moved.json'), JSON.stringify(moved));
      writeFileSync(at('moved.cache'), readFileSync(at('c.cache')));
      const r = await runCli(['recertify', '--original', at('moved.json'), '--model', at('fp16.onnx'), '--np', '100', '--out', at('x.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/inputs differ from those of certificate/);
    });
  });

  it('the installed bin runs as a process: --version, and exit code 2 on bad input', () => {
    expect(execFileSync('node', ['bin/irs.js', '--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    let code = 0;
    let stderr = '';
    try {
      execFileSync('node', ['bin/irs.js', 'certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '-1', '--out', at('x.json')], { stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(code).toBe(2);
    expect(stderr).toMatch(/--sigma/);
  });
});
