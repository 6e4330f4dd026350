/**
 * The report opens offline in a real browser (Debian's headless Chromium): it renders with no
 * console error, fetches nothing, and plots every certificate given.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/cli.ts';
import { renderPage } from './helpers/browser.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const MODEL = 'models/mnist-small-s0.50.onnx';
const dir = mkdtempSync(join(tmpdir(), 'irs-report-'));
const at = (f: string) => join(dir, f);

describe('irs report', () => {
  beforeAll(async () => {
    const common = ['--backend', TEST_BACKEND, '--quiet'];
    expect((await runCli(['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', '--n0', '20', '--n', '600', '--count', '12', '--skip', '40', ...common, '--out', at('original.json')])).code).toBe(0);
    writeFileSync(at('p10.onnx'), (await compressModel(readFileSync(MODEL), { method: 'prune', amount: 0.1, backend: TEST_BACKEND })).bytes);
    expect((await runCli(['recertify', '--original', at('original.json'), '--model', at('p10.onnx'), '--np', '300', '--gamma', '1', ...common, '--out', at('irs.json')])).code).toBe(0);
    expect((await runCli(['recertify', '--original', at('original.json'), '--model', at('p10.onnx'), '--np', '300', '--baseline', ...common, '--out', at('baseline.json')])).code).toBe(0);
  }, 120_000);

  it('renders in headless Chromium with no console errors, offline, with a curve per certificate', async () => {
    const r = await runCli(['report', at('original.json'), at('irs.json'), at('baseline.json'), '--labels', 'f (RS),prune 10% (IRS),prune 10% (RS from scratch)', '--out', at('report.html')]);
    expect(r.code).toBe(0);
    const page = await renderPage(pathToFileURL(at('report.html')).href, at('report.png'));
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([pathToFileURL(at('report.html')).href]);
    expect(page.curves).toEqual(['f (RS)', 'prune 10% (IRS)', 'prune 10% (RS from scratch)']);
    expect(page.zetaPlots).toBe(1);
    expect(statSync(at('report.png')).size).toBeGreaterThan(20_000);
  }, 60_000);

  it('writes a Markdown summary for CI comments', async () => {
    const r = await runCli(['report', at('original.json'), at('irs.json'), '--format', 'md', '--out', at('report.md')]);
    expect(r.code).toBe(0);
    const md = readFileSync(at('report.md'), 'utf8').split('\n');
    expect(md[0]).toMatch(/^\| certificate \| kind \| model \| inputs \| r=0 /);
    expect(md.filter((l) => l.startsWith('| original') || l.startsWith('| irs'))).toHaveLength(2);
    expect(md.join('\n')).toMatch(/\*\*irs\*\* \(IRS\): zeta branch \d+/);
    // Each certificate's guarantee, and the caveats.
    expect(md.join('\n')).toMatch(/- original: P\(class or radius wrong\) <= 0.001\./);
    expect(md.join('\n')).toMatch(/- irs: P\(class or radius wrong\) <= 0.002\. IRS:/);
    expect(md.join('\n')).toMatch(/Not covered: .*Voráček & Hein/);
    expect(readFileSync(at('report.html'), 'utf8')).toMatch(/<h2>Guarantee<\/h2>/);
  });

  it('refuses a file that is not a certificate, and mismatched labels', async () => {
    writeFileSync(at('junk.json'), '{"hello": 1}');
    let r = await runCli(['report', at('junk.json'), '--out', at('x.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an irs-edge certificate/);
    r = await runCli(['report', at('original.json'), '--labels', 'a,b', '--out', at('x.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 labels for 1 certificates/);
  });
});
