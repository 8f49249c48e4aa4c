// Shared by the browser tests: Debian's chromium driven by playwright-core
// (headless, no sandbox as root), phone- or PC-sized pages, bounded waits
// and screenshots into $IT_DIR/screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const BASE = process.env.GB_WEB_URL;
export const SHOTS = process.env.GB_SHOTS;
mkdirSync(SHOTS, { recursive: true });

export async function browser() {
  return chromium.launch({ executablePath: process.env.GB_CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu'] });
}

export const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' };
export const PC = { viewport: { width: 1280, height: 800 }, locale: 'zh-CN' };

export function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

// A device bound through the console's own form.
export async function bind(page, path, code) {
  await page.goto(BASE + path);
  await page.getByLabel('绑定码').fill(code);
  await page.getByRole('button', { name: '绑定' }).click();
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}
