// Shared by the browser tests: Debian's chromium driven by playwright-core
// (headless, no sandbox as root), phone- or PC-sized pages, bounded waits
// and screenshots into $IT_DIR/screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import net from 'node:net';

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
export async function bind(page, path, code, base = BASE) {
  await page.goto(base + path);
  await page.getByLabel('绑定码').fill(code);
  await page.getByRole('button', { name: '绑定' }).click();
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

// WCAG contrast of every visible piece of text on the page: the text's
// colour against the first opaque background behind it, at least 4.5:1
// (3:1 for large text: 24 px, or 18.66 px bold). Returns the failures.
export async function lowContrast(page) {
  return page.evaluate(() => {
    const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bg = (e) => {
      for (; e && e.nodeType === 1; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const e = n.parentElement;
      if (!n.textContent.trim() || !e || e.closest('[hidden], .visually-hidden, details:not([open]) > :not(summary)')) continue;
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height || !e.checkVisibility()) continue;
      const s = getComputedStyle(e);
      const fg = rgb(e.namespaceURI === 'http://www.w3.org/2000/svg' ? s.fill : s.color).slice(0, 3);
      const [l1, l2] = [lum(fg), lum(bg(e))].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const px = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
      const need = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
      if (ratio < need) bad.push(`"${n.textContent.trim().slice(0, 20)}" ${ratio.toFixed(2)}:1 (needs ${need})`);
    }
    return bad;
  });
}

// The page's fields each have a label and nothing scrolls sideways at its width.
export async function layoutProblems(page, width) {
  const r = await page.evaluate(() => ({
    wide: document.documentElement.scrollWidth,
    unlabelled: [...document.querySelectorAll('input, select, textarea')].filter((e) => !e.labels || !e.labels.length).map((e) => e.id),
  }));
  const out = [];
  if (r.wide > width) out.push(`${r.wide} px wide at ${width}`);
  if (r.unlabelled.length) out.push('fields without a label: ' + r.unlabelled);
  return out;
}

// A TCP relay in front of notifier whose connections the test can cut, as
// a phone losing its network does (the browser's own offline mode leaves
// an open push stream alone). cut() drops every connection and refuses new
// ones until restore().
export async function relay(target = BASE) {
  const { hostname, port } = new URL(target);
  const socks = new Set();
  let down = false;
  const srv = net.createServer((c) => {
    if (down) return c.destroy();
    const u = net.connect(Number(port), hostname);
    socks.add(c); socks.add(u);
    const end = () => { c.destroy(); u.destroy(); socks.delete(c); socks.delete(u); };
    for (const s of [c, u]) { s.on('error', end); s.on('close', end); }
    c.pipe(u); u.pipe(c);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    cut() { down = true; for (const s of socks) s.destroy(); socks.clear(); },
    restore() { down = false; },
    close() { for (const s of socks) s.destroy(); srv.close(); },
  };
}
