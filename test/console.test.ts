/**
 * The console (GET /) in a real browser (Debian's headless Chromium through playwright-core),
 * served by the functions on Node and under workerd (`wrangler dev`): a token, uploads, an API
 * validation error beside its field, a certify job watched to the end with live progress, its
 * certificate (one curve), a compressed variant recertified with IRS (two curves: it and its
 * original), downloads; no console error, and no request leaves the origin. Screenshots at
 * 1280x800 and at a phone width go to out/console/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driveConsole, type ConsoleRun } from './helpers/console.ts';
import { WranglerDev } from './helpers/jobs.ts';
import { serve } from '../src/http/node.ts';

const SHOTS = 'out/console';

function check(run: ConsoleRun, progress = true) {
  expect(run.errors).toEqual([]);
  expect(run.foreign).toEqual([]);
  expect(run.validationError).toMatch(/./);
  if (progress) expect(run.sawProgress, 'a running job showed samples done').toBeDefined();
  expect(run.certifyCurves).toHaveLength(1);
  expect(run.irsCurves).toHaveLength(2);
  expect(run.irsZetaPlots).toBe(1);
  expect(run.downloads[0]).toMatch(/\.json$/);
  expect(run.downloads[1]).toMatch(/\.tsv$/);
}

describe('console on Node', () => {
  let close: () => Promise<void>;
  let base = '';
  beforeAll(async () => {
    // wasm, so the certify job runs long enough to be watched.
    const s = await serve({ port: 0, store: 'memory:', tokens: new Map([['console-token', 'acme']]), backend: 'wasm' });
    base = s.url;
    close = s.close;
  });
  afterAll(() => close?.());

  it('serves the page with a strict content security policy', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('drives a certify and an IRS job from the page', async () => {
    const run = await driveConsole(base, 'console-token', SHOTS, 'node', mkdtempSync(join(tmpdir(), 'irs-console-')));
    console.log('console on Node:', JSON.stringify({ seen: run.seen, progress: run.sawProgress, validation: run.validationError, curves: [run.certifyCurves, run.irsCurves], screenshots: run.screenshots }));
    check(run);
  }, 400_000);
});

describe('console under workerd (wrangler dev)', () => {
  const dev = new WranglerDev(mkdtempSync(join(tmpdir(), 'irs-wrangler-')));
  let base = '';
  beforeAll(async () => {
    await dev.start();
    base = dev.base;
  }, 90_000);
  afterAll(() => dev.kill('SIGTERM'));

  it('drives a certify and an IRS job from the page', async () => {
    // A short job: wrangler dev runs its queue consumer in the isolate that serves the page.
    const run = await driveConsole(base, 'dev-token', SHOTS, 'workerd', mkdtempSync(join(tmpdir(), 'irs-console-')), 600);
    console.log('console on workerd:', JSON.stringify({ seen: run.seen, progress: run.sawProgress, validation: run.validationError, curves: [run.certifyCurves, run.irsCurves] }));
    check(run, false);
  }, 400_000);
});
