/** Renders a local page in Debian's headless Chromium (playwright-core drives it; nothing is downloaded). */
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function renderPage(url: string, screenshotPath: string) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    const curves = await page.$$eval('svg.plot polyline.curve', (els) => els.map((e) => e.getAttribute('data-label')));
    const zetaPlots = await page.$$eval('svg.zeta', (els) => els.length);
    const title = await page.title();
    return { errors, requests, curves, zetaPlots, title };
  } finally {
    await browser.close();
  }
}
