// The screenshots of docs/screenshots/, taken from the running demo
// (scripts/run.sh): node tests/browser/screenshots.mjs URL OFFICER_CODE ADMIN_CODE OUT_DIR
import { chromium } from 'playwright-core';

const [base, officerCode, adminCode, out] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const phone = await (await b.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, locale: 'zh-CN' })).newPage();
await phone.goto(base + '/console/');
await phone.screenshot({ path: out + '/console-bind.png' });
await phone.getByLabel('绑定码').fill(officerCode);
await phone.getByRole('button', { name: '绑定' }).click();
await phone.locator('.alert').first().waitFor({ timeout: 60000 });
await phone.waitForTimeout(3000); // the demo's alerts keep arriving: let a few more in for the picture
await phone.screenshot({ path: out + '/console-list.png' });
await phone.locator('.alert-open').first().click();
await phone.locator('.person').waitFor({ timeout: 10000 }); // the registrant's details
await phone.screenshot({ path: out + '/console-alert.png', fullPage: true });
const pc = await (await b.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' })).newPage();
await pc.goto(base + '/dashboard/');
await pc.getByLabel('绑定码').fill(adminCode);
await pc.getByRole('button', { name: '绑定' }).click();
await pc.locator('#stations tbody tr').first().waitFor({ timeout: 20000 });
await pc.locator('#chart-bureau-alerts svg').waitFor({ timeout: 20000 });
await pc.screenshot({ path: out + '/dashboard.png', fullPage: true });
await pc.locator('#stations tbody a', { hasText: '永福派出所' }).click();
await pc.locator('#chart-station-alerts svg').waitFor({ timeout: 20000 });
await pc.screenshot({ path: out + '/dashboard-station.png', fullPage: true });
await pc.getByRole('link', { name: '派出所与账号管理' }).click();
await pc.locator('#units tbody tr').first().waitFor({ timeout: 20000 });
await pc.screenshot({ path: out + '/dashboard-manage.png', fullPage: true });
await b.close();
