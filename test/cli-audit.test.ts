/**
 * `irs certify | recertify | predict | tune … --workers a,b --token T --audit F` (issue 17, the CLI side): two
 * `irs serve` workers, one behind a lying proxy that rewrites one in five of the shard
 * responses it serves (moves votes between classes, or alters disagreement counts).
 *
 * - Audits on: stderr names the lying worker and the shards recomputed, exit 0, and the
 *   certificate equals the in-process one (id, results, cache sha256), with provenance.
 * - Audits off: the certificate differs (the check has teeth).
 * - The same for predict; tune over an honest pair at F = 1 gives the in-process report, each
 *   candidate's certificate with the provenance of its own shards.
 * - An honest pair audited at F = 1 reports no mismatch.
 * - One lying worker alone: the aggregator audits, nobody settles a mismatch: exit 5.
 * - --audit is validated, and needs --workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { startServe, type ServeProcess } from './helpers/servers.ts';
import { startLyingProxy, type LyingProxy } from './helpers/lying-proxy.ts';
import { TEST_BACKEND } from './helpers/backend.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const MODEL = 'models/mnist-small-s0.50.onnx';
const TOKEN = 'audit-token';
const dir = mkdtempSync(join(tmpdir(), 'irs-cli-audit-'));
const at = (f: string) => join(dir, f);
const read = <T = Certificate>(f: string): T => JSON.parse(readFileSync(f, 'utf8'));
const strip = (c: Certificate) => c.results.map(({ time: _t, ...r }) => r);
const common = ['--backend', TEST_BACKEND, '--quiet'];
// 2 inputs in one shard group; 2 selection + 200 estimation shards of 30 samples. The liar
// serves about half and lies on one in five (~20 lies before it is caught): F = 0.5 misses
// them all with probability about 0.5^20 (RELIABILITY.md §2a).
const certify = (n: number) => ['certify', '--model', MODEL, '--data', 'mnist:test', '--count', '2', '--skip', '50', '--sigma', '0.5', '--n0', '40', '--n', String(n),
  '--seed', '3', '--shard-size', '30', '--batch', '30', ...common];
const certifyArgs = certify(6000);

describe('irs … --workers --audit F: spot-check audits from the CLI', () => {
  let workers: ServeProcess[] = [];
  let proxy: LyingProxy;
  let pair: string[];
  let reference: Certificate;

  beforeAll(async () => {
    workers = await Promise.all([0, 1].map(() => startServe(['--store', 'memory:', '--token', TOKEN, '--backend', TEST_BACKEND])));
    proxy = await startLyingProxy(workers[1].url);
    pair = ['--workers', `${workers[0].url},${proxy.url}`, '--token', TOKEN];
    const r = await runCli([...certifyArgs, '--out', at('ref.json')]);
    expect(r.code, r.stderr).toBe(0);
    reference = read(at('ref.json'));
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(workers.map((w) => w.stop()));
  });

  it('--audit 0.5: names the lying worker and the shards recomputed, exits 0, writes the in-process certificate with provenance', async () => {
    const before = proxy.lies;
    const r = await runCli([...certifyArgs, ...pair, '--audit', '0.5', '--out', at('audited.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.lies - before).toBeGreaterThan(0);
    expect(r.stderr).toContain(`irs: warning: audit: worker ${proxy.url} caught returning wrong shard results`);
    expect(r.stderr).toMatch(/shard \[\d+, \d+\) of stream \d+, inputs [\d,]+: input \d+: counts\[\d+\] \d+ vs \d+/);
    expect(r.stderr).toMatch(/the results written are the honest ones/);
    const cert = read(at('audited.json'));
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).toEqual(strip(reference));
    expect(cert.cache!.sha256).toBe(reference.cache!.sha256);
    expect(readFileSync(at('audited.cache'))).toEqual(readFileSync(at('ref.cache')));
    const p = cert.provenance!;
    expect(p.shards).toHaveLength(2 + 200);
    expect(p.shards.every((s) => s.by !== proxy.url)).toBe(true);
    expect(p.shards.filter((s) => s.audit).length).toBeGreaterThan(0);
    expect(p.audit!.quarantined.map((q) => [q.party, q.reason])).toEqual([[proxy.url, 'mismatch']]);
    expect(p.audit!.mismatches.every((m) => m.faulty === proxy.url)).toBe(true);
    // The results it gave before it was caught (almost always some) are listed as recomputed.
    if (p.audit!.discarded > 0) expect(r.stderr).toMatch(new RegExp(`its other ${p.audit!.discarded} shard results? of this run discarded and recomputed by`));
    // The stored results of the caught worker are gone: a rerun cannot reuse them.
    const rerun = await runCli([...certifyArgs, ...pair, '--audit', '0.5', '--out', at('audited.json')]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(strip(read(at('audited.json')))).toEqual(strip(reference));
  }, 120_000);

  it('without --audit the same fan-out writes a different certificate (same id: only the results tell the lie)', async () => {
    const before = proxy.lies;
    const r = await runCli([...certifyArgs, ...pair, '--out', at('unaudited.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.lies - before).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/audit/);
    const cert = read(at('unaudited.json'));
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).not.toEqual(strip(reference));
    // Provenance still says who computed what.
    expect(cert.provenance!.shards.some((s) => s.by === proxy.url)).toBe(true);
    expect(cert.provenance!.audit).toBeUndefined();
    // An audited rerun does not reuse results stored by a run without --audit.
    const audited = await runCli([...certifyArgs, ...pair, '--audit', '0.5', '--out', at('unaudited.json')]);
    expect(audited.code, audited.stderr).toBe(0);
    expect(audited.stderr).toMatch(/stored shard results? from runs without --audit recomputed, not reused/);
    expect(strip(read(at('unaudited.json')))).toEqual(strip(reference));
  }, 120_000);

  it('recertify --audit 0.5: lies about disagreement counts are caught, the in-process recertification written', async () => {
    writeFileSync(at('p20.onnx'), (await compressModel(readFileSync(MODEL), { method: 'prune', amount: 0.2, backend: TEST_BACKEND })).bytes);
    const args = ['recertify', '--original', at('ref.json'), '--model', at('p20.onnx'), '--np', '6000', '--gamma', '1', '--shard-size', '30', '--batch', '30', ...common];
    const local = await runCli([...args, '--out', at('re-local.json')]);
    expect(local.code, local.stderr).toBe(0);
    const before = proxy.lies;
    const r = await runCli([...args, ...pair, '--audit', '0.5', '--out', at('re-audited.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.lies - before).toBeGreaterThan(0);
    expect(r.stderr).toContain(`worker ${proxy.url} caught returning wrong shard results`);
    expect(r.stderr).toMatch(/disagreements \d+ vs \d+/);
    const [a, b] = [read(at('re-local.json')), read(at('re-audited.json'))];
    expect(a.results.every((x) => x.branch === 'zeta')).toBe(true);
    expect(b.id).toBe(a.id);
    expect(strip(b)).toEqual(strip(a));
    expect(b.provenance!.shards.every((s) => s.by !== proxy.url)).toBe(true);
  }, 120_000);

  it('predict --audit 0.5: the lie is caught, the in-process predictions written with provenance', async () => {
    const args = ['predict', '--model', MODEL, '--data', 'mnist:test', '--count', '2', '--skip', '50', '--sigma', '0.5', '--n', '6000', '--shard-size', '30', '--batch', '30', ...common];
    const local = await runCli([...args, '--out', at('pred-local.json')]);
    expect(local.code, local.stderr).toBe(0);
    const before = proxy.lies;
    const r = await runCli([...args, ...pair, '--audit', '0.5', '--out', at('pred-audited.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.lies - before).toBeGreaterThan(0);
    expect(r.stderr).toContain(`worker ${proxy.url} caught returning wrong shard results`);
    type Doc = { results: { time: number }[]; provenance?: { shards: { by: string }[] } };
    const rows = (d: Doc) => d.results.map(({ time: _t, ...x }) => x);
    const doc = read<Doc>(at('pred-audited.json'));
    expect(rows(doc)).toEqual(rows(read<Doc>(at('pred-local.json'))));
    expect(doc.provenance!.shards.every((s) => s.by !== proxy.url)).toBe(true);
  }, 120_000);

  it('tune --audit 1 over an honest pair: the in-process report, every candidate certificate with its own provenance', async () => {
    proxy.lying = false;
    try {
      const tune = ['tune', '--model', MODEL, '--original', at('ref.json'), '--candidates', 'fp16,prune:0.2', '--min-certified-accuracy', '0.25:0.5', '--np', '600', ...common];
      const local = await runCli([...tune, '--out', at('tune-local')]);
      const r = await runCli([...tune, ...pair, '--audit', '1', '--out', at('tune-audited')]);
      expect(local.code, local.stderr).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      const m = /audit: (\d+) of \1 selected shards recomputed and compared on \w+ \(F = 1\), \1 agreed, 0 mismatches/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const summary = (d: string) => { const { seconds: _s, ...rest } = read<Record<string, unknown>>(join(at(d), 'tune.json')); return rest; };
      expect(summary('tune-audited')).toEqual(summary('tune-local'));
      const certs = readdirSync(at('tune-local')).filter((f) => f.endsWith('.json') && f !== 'tune.json');
      expect(certs.length).toBeGreaterThan(0);
      for (const name of certs) {
        const cert = read(join(at('tune-audited'), name));
        expect(strip(cert)).toEqual(strip(read(join(at('tune-local'), name))));
        // Each certificate lists only its own model's shards (the run had both candidates').
        expect(cert.provenance!.shards.length).toBeGreaterThan(0);
        expect(cert.provenance!.shards.length).toBeLessThan(Number(m![1]));
        expect(cert.provenance!.shards.every((s) => s.audit?.agreed)).toBe(true);
      }
    } finally {
      proxy.lying = true;
    }
  }, 120_000);

  it('an honest pair audited at F = 1 reports no mismatch, every shard audited by the other party', async () => {
    proxy.lying = false;
    try {
      const small = certify(600);
      const local = await runCli([...small, '--out', at('small-local.json')]);
      const r = await runCli([...small, ...pair, '--audit', '1', '--out', at('small-audited.json')]);
        expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('audit: 22 of 22 selected shards recomputed and compared');
      expect(r.stderr).toContain('22 agreed, 0 mismatches');
      expect(r.stderr).not.toMatch(/warning/);
      const cert = read(at('small-audited.json'));
      expect(strip(cert)).toEqual(strip(read(at('small-local.json'))));
      expect(local.code).toBe(0);
      expect(cert.provenance!.shards.every((s) => s.audit?.agreed && s.audit.by !== s.by)).toBe(true);
      expect(cert.provenance!.audit!.mismatches).toEqual([]);
    } finally {
      proxy.lying = true;
    }
  }, 120_000);

  it('one lying worker alone: this process audits, a mismatch has no third party to settle it: exit 5, no certificate', async () => {
    const r = await runCli([...certify(600), '--workers', proxy.url, '--token', TOKEN, '--audit', '1', '--out', at('alone.json')]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`irs: error: audit: .*${proxy.url.replace(/[.]/g, '\\.')} and aggregator disagree .*no third party`));
    expect(r.stderr).toMatch(/\d+ agreed, 0 mismatches, 1 unsettled \(two answers, no majority\)/);
    expect(r.stderr).toMatch(/no output written/);
    expect(() => readFileSync(at('alone.json'))).toThrow();
  }, 60_000);

  it.skipIf(TEST_BACKEND !== 'node')('this process on wasm, the workers on node: it states wasm and is refused as a party, never compared across backends', async () => {
    const wasm = ['--backend', 'wasm'];
    const asAuditor = await runCli([...certify(600), ...wasm, ...pair, '--audit', '1', '--auditor', 'aggregator', '--out', at('w.json')]);
    expect(asAuditor.code).toBe(2);
    expect(asAuditor.stderr).toMatch(/--auditor aggregator: this process runs wasm, the workers node, and audits across backends are refused/);
    // A lie is found by the other worker; the third party would be this process, which states wasm: refused, nobody settles it.
    const r = await runCli([...certify(600), ...wasm, ...pair, '--audit', '1', '--out', at('w.json')]);
    expect(r.stderr).toMatch(/irs: warning: audit: this process runs wasm, the workers node: audits across backends are refused/);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/this process \(aggregator\) excluded: states backend wasm, the job runs on node/);
  }, 60_000);

  it('--audit is validated and needs --workers', async () => {
    for (const bad of ['0', '1.5', '-0.1', 'x']) {
      const r = await runCli([...certifyArgs, ...pair, '--audit', bad, '--out', at('x.json')]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/--audit/);
    }
    const noWorkers = await runCli([...certifyArgs, '--audit', '0.5', '--out', at('x.json')]);
    expect(noWorkers.code).toBe(2);
    expect(noWorkers.stderr).toMatch(/--audit needs --workers/);
    const noAudit = await runCli([...certifyArgs, ...pair, '--auditor', 'aggregator', '--out', at('x.json')]);
    expect(noAudit.code).toBe(2);
    expect(noAudit.stderr).toMatch(/--auditor needs --audit/);
    const predict = await runCli(['predict', '--model', MODEL, '--data', 'mnist:test', '--count', '2', '--sigma', '0.5', '--n', '100', ...common, '--audit', '0.2', '--out', at('x.json')]);
    expect(predict.code).toBe(2);
    expect(predict.stderr).toMatch(/--audit needs --workers/);
  });
});
