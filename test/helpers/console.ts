/**
 * Drives the console (GET /) in Debian's headless Chromium, as a user would: token, uploads,
 * a validation error, a small certify job watched to the end, its certificate, a compressed
 * variant recertified with IRS, downloads. Records console errors and every request.
 */
import { chromium, type Page } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM } from './browser.ts';
import { loadMnist } from '../../src/data/mnist.ts';
import { encodeNpy } from '../../src/protocol/npy-codec.ts';

export interface ConsoleRun {
  errors: string[];
  requests: string[];
  foreign: string[];
  sawProgress: { samples: string; eta: string } | undefined;
  validationError: string;
  certifyCurves: string[];
  certifyZetaPlots: number;
  irsCurves: string[];
  irsZetaPlots: number;
  downloads: string[];
  screenshots: string[];
  /** The certify job's row as it changed: status and samples. */
  seen: string[];
}

export async function driveConsole(base: string, token: string, shotsDir: string, name: string, dir: string, n = 12000): Promise<ConsoleRun> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  mkdirSync(shotsDir, { recursive: true });
  const mnist = loadMnist('test');
  const idx = [0, 1, 2];
  const x = new Float32Array(idx.length * 784);
  idx.forEach((i, k) => x.set(mnist.input(i), k * 784));
  const npy = join(dir, 'three.npy');
  writeFileSync(npy, encodeNpy(x, [idx.length, 1, 28, 28], '<f4'));
  const labels = idx.map((i) => mnist.label(i)).join(',');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const run: ConsoleRun = { errors: [], requests: [], foreign: [], sawProgress: undefined, validationError: '', certifyCurves: [], certifyZetaPlots: 0, irsCurves: [], irsZetaPlots: 0, downloads: [], screenshots: [], seen: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const page = await context.newPage();
    // Chromium logs every non-2xx response as a console error; the one 400 the test provokes is expected.
    let expect400 = false;
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (expect400 && /status of 400/.test(m.text())) { expect400 = false; return; }
      run.errors.push(m.text());
    });
    page.on('pageerror', (e) => run.errors.push(e.message));
    page.on('request', (r) => {
      const u = r.url();
      run.requests.push(u);
      const sameOrigin = u.startsWith(`${base}/`) || u.startsWith(`blob:${base}/`) || u === 'about:srcdoc' || u.startsWith('data:');
      if (!sameOrigin) run.foreign.push(u);
    });
    const t = (id: string) => page.getByTestId(id);
    const form = (id: string) => page.getByTestId(`form-${id}`);

    await page.goto(`${base}/`, { waitUntil: 'load' });
    await t('token-input').fill(token);
    await t('token-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=auth-status]')?.textContent === 'token ok');
    // The token lives in sessionStorage only: not in the URL.
    if (page.url() !== `${base}/`) throw new Error(`the URL changed to ${page.url()}`);

    await t('model-file').setInputFiles('models/mnist-small-s0.50.onnx');
    await t('model-submit').click();
    await page.getByTestId('model-result').filter({ hasText: 'stored' }).waitFor();
    await t('inputs-file').setInputFiles(npy);
    await t('inputs-submit').click();
    await page.getByTestId('inputs-result').filter({ hasText: '3 inputs' }).waitFor();
    const inputsSha = /stored ([0-9a-f]{64})/.exec((await t('inputs-result').textContent()) ?? '')![1];

    // A validation error from the API is shown beside the field it names.
    await t('certify-data').selectOption(inputsSha);
    await t('certify-count').fill('3');
    await t('certify-labels').fill(labels);
    await t('certify-sigma').fill('-1');
    expect400 = true;
    await t('certify-submit').click();
    const sigmaErr = form('certify').locator('[data-err="sigma"]');
    await sigmaErr.filter({ hasText: /./ }).waitFor();
    run.validationError = (await sigmaErr.textContent()) ?? '';

    // A small certify job, watched to the end.
    await t('certify-sigma').fill('0.5');
    await t('certify-n0').fill('20');
    await t('certify-n').fill(String(n));
    await t('certify-submit').click();
    const started = (await form('certify').locator('[data-result]').filter({ hasText: 'started job' }).textContent()) ?? '';
    const row = page.locator(`[data-testid=job-row][data-job-id^="${/started job ([0-9a-f]+)/.exec(started)![1]}"]`);
    const deadline = Date.now() + 240_000;
    for (;;) {
      const status = (await row.count()) ? await row.getAttribute('data-status') : 'absent';
      const seen = `${status} ${status === 'absent' ? '' : await row.getByTestId('job-samples').textContent()}`;
      if (run.seen[run.seen.length - 1] !== seen) run.seen.push(seen);
      if (status === 'running' && !run.sawProgress) {
        const samples = (await row.getByTestId('job-samples').textContent()) ?? '';
        const eta = (await row.getByTestId('job-eta').textContent()) ?? '';
        if (/^[1-9][\d,]* \/ [\d,]+$/.test(samples) && !samples.startsWith(samples.split(' / ')[1] + ' ')) {
          run.sawProgress = { samples, eta };
          run.screenshots.push(await shot(page, shotsDir, `${name}-running.png`));
        }
      }
      if (status === 'done') break;
      if (status === 'failed') throw new Error(`the job failed: ${await row.getByTestId('job-status').textContent()}`);
      if (Date.now() > deadline) throw new Error('the certify job did not finish');
      await page.waitForTimeout(150);
    }
    await row.getByTestId('job-open').click();
    await t('cert-view').waitFor();
    const frame = page.frameLocator('[data-testid=report-frame]');
    await frame.locator('svg.plot').waitFor();
    run.certifyCurves = await frame.locator('svg.plot polyline.curve').evaluateAll((els) => els.map((e) => e.getAttribute('data-label') ?? ''));
    run.certifyZetaPlots = await frame.locator('svg.zeta').count();
    for (const [id, ext] of [['download-json', '.json'], ['download-tsv', '.tsv']] as const) {
      const [dl] = await Promise.all([page.waitForEvent('download'), t(id).click()]);
      if (!dl.suggestedFilename().endsWith(ext)) throw new Error(`download ${dl.suggestedFilename()}`);
      run.downloads.push(dl.suggestedFilename());
    }

    // Compress the stored model and recertify the variant with IRS (full mode: every input replays n_p samples).
    await page.locator('details', { hasText: 'Compress and recertify' }).locator('summary').click();
    await t('compress-method').selectOption('prune');
    await t('compress-amount').fill('0.1');
    await t('compress-submit').click();
    const variant = /variant ([0-9a-f]{64})/.exec((await form('compress').locator('[data-result]').filter({ hasText: 'variant' }).textContent({ timeout: 60_000 })) ?? '')![1];
    await page.waitForFunction((v) => !!document.querySelector(`[data-testid=recertify-model] option[value="${v}"]`), variant);
    await t('recertify-model').selectOption(variant);
    await t('recertify-mode').selectOption('full');
    await t('recertify-gamma').fill('1'); // every input replays the cache (the zeta branch)
    await t('recertify-np').fill(String(Math.min(2000, n)));
    await t('recertify-submit').click();
    const irsStarted = (await form('recertify').locator('[data-result]').filter({ hasText: 'started job' }).textContent()) ?? '';
    const irsRow = page.locator(`[data-testid=job-row][data-job-id^="${/started job ([0-9a-f]+)/.exec(irsStarted)![1]}"][data-status=done]`);
    await irsRow.waitFor({ timeout: 240_000 });
    await irsRow.getByTestId('job-open').click();
    await frame.locator('svg.plot polyline.curve').nth(1).waitFor();
    run.irsCurves = await frame.locator('svg.plot polyline.curve').evaluateAll((els) => els.map((e) => e.getAttribute('data-label') ?? ''));
    run.irsZetaPlots = await frame.locator('svg.zeta').count();
    await page.evaluate(() => window.scrollTo(0, 0));
    run.screenshots.push(await shot(page, shotsDir, `${name}-1280.png`, true));
    await page.screenshot({ path: join(shotsDir, `${name}-1280x800.jpg`), type: 'jpeg', quality: 70 });
    await page.setViewportSize({ width: 390, height: 844 });
    run.screenshots.push(await shot(page, shotsDir, `${name}-phone.png`, true));
    await context.close();
  } finally {
    await browser.close();
  }
  return run;
}

async function shot(page: Page, dir: string, file: string, fullPage = false): Promise<string> {
  const path = join(dir, file);
  await page.screenshot({ path, fullPage });
  return path;
}
