// Two officers of st-1 on phone-sized pages: each binds with a one-time
// code, sees the live alert (the page is 360 px wide without sideways
// scrolling, every field labelled), opens it (one by keyboard); both tap "claim" at once: one wins,
// and the other's page shows who has it within a second. The winner files
// the dissuasion record on the phone while the other phone is offline; back
// online, it catches up by itself. An officer of st-2 cannot open st-1's
// alert (not listed; the API refuses it).
import { browser, bind, relay, shot, fail, lowContrast, layoutProblems, PHONE, PC } from './lib.mjs';

const [codeA, codeB, codeX, codeBureau, subject] = process.argv.slice(2);
const b = await browser();
// The bureau's dashboard, on a PC-sized page, open throughout.
const pd = await (await b.newContext(PC)).newPage();
pd.on('pageerror', (e) => fail('dashboard page error: ' + e.message));
await bind(pd, '/dashboard/', codeBureau);
const row = pd.locator('#stations tbody tr', { hasText: '思明派出所' });
await row.waitFor({ timeout: 10000 });
// Each phone reaches notifier through a relay the test can cut.
const pages = [], relays = [];
for (const code of [codeA, codeB]) {
  const ctx = await b.newContext(PHONE);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  const r = await relay();
  await bind(page, '/console/', code, r.url);
  pages.push(page);
  relays.push(r);
}
const [pa, pb] = pages;
const shown = (p) => p.locator('.alert .subject', { hasText: subject.slice(3, 6) }).first();
for (const p of pages) await shown(p).waitFor({ timeout: 20000 });
await shot(pa, 'console-list');
// Accessible at 360 px: no sideways scrolling, every field labelled, text
// contrast at least 4.5:1, and the list usable from the keyboard (pb opens
// the alert with Enter).
for (const [p, name] of [[pa, 'the list'], [pd, 'the dashboard']]) {
  const bad = [...await lowContrast(p), ...await layoutProblems(p, p === pa ? 360 : 1280)];
  if (bad.length) fail(`${name}: ${bad.join('; ')}`);
}
await pa.locator('.alert-open').first().click();
await pb.locator('.alert-open').first().focus();
await pb.keyboard.press('Enter');
await pb.locator('#detail').waitFor({ state: 'visible', timeout: 2000 });
await pa.getByRole('button', { name: '认领' }).waitFor({ timeout: 5000 });
{
  const bad = [...await lowContrast(pa), ...await layoutProblems(pa, 360)];
  if (bad.length) fail(`the alert's page: ${bad.join('; ')}`);
}
await shot(pa, 'console-alert');

// Both at once. A page whose button has already gone (the other's claim
// arrived first and the page re-drew) has been told: that is the point.
await Promise.all(pages.map((p) => p.getByRole('button', { name: '认领' }).click({ timeout: 1000 }).catch(() => null)));
const t0 = Date.now();
const who = await Promise.all(pages.map(async (p) => {
  await p.locator('.risk-line', { hasText: '认领人' }).waitFor({ timeout: 1000 });
  return (await p.locator('.risk-line').textContent()).match(/认领人 (\S+)/)[1];
}));
const told = Date.now() - t0;
if (who[0] !== who[1]) fail(`the pages disagree on who has it: ${who}`);
const winner = who[0];
const wp = winner === 'o-a' ? pa : pb, lp = winner === 'o-a' ? pb : pa, lr = winner === 'o-a' ? relays[1] : relays[0];
if (await lp.getByRole('button', { name: '填写劝阻记录' }).count()) fail('the loser may file the record');
await shot(lp, 'console-claimed-by-other');

// The loser's phone loses its connection while the record is filed: back
// online, it catches up by itself.
lr.cut();
await lp.locator('#conn', { hasText: '连接中断' }).waitFor({ timeout: 10000 });
// The record, on the phone.
await wp.getByRole('button', { name: '填写劝阻记录' }).click();
await wp.getByLabel('方式').selectOption('call');
await wp.getByLabel('结果').selectOption('dissuaded');
await wp.getByLabel('备注').fill('本人接听，已劝阻');
await shot(wp, 'console-record');
await wp.getByRole('button', { name: '提交记录' }).click();
await wp.locator('.risk-line', { hasText: '已办结' }).waitFor({ timeout: 5000 });
if (await lp.locator('.risk-line', { hasText: '已办结' }).count()) fail('the offline page learnt of the record');
lr.restore();
const t2 = Date.now();
await lp.locator('.risk-line', { hasText: '已办结' }).waitFor({ timeout: 15000 });
const caughtUp = Date.now() - t2;
// The record appears on the dashboard: st-1 has 1 dissuaded (column 已劝阻).
const col = await pd.locator('#stations thead th').allTextContents();
const idx = col.indexOf('已劝阻');
if (idx < 0) fail('no 已劝阻 column: ' + col);
const t1 = Date.now();
await pd.waitForFunction(([i]) => {
  const r = [...document.querySelectorAll('#stations tbody tr')].find((tr) => tr.textContent.includes('思明派出所'));
  return r && r.children[i].textContent === '1';
}, [idx], { timeout: 5000 });
const onDashboard = Date.now() - t1;
await shot(pd, 'dashboard');

// Another station's officer: the list stays empty, and the alert's API is refused.
const ctx = await b.newContext(PHONE);
const px = await ctx.newPage();
await bind(px, '/console/', codeX);
await px.locator('#list').waitFor({ state: 'visible', timeout: 10000 });
await px.locator('#conn', { hasText: '实时连接中' }).waitFor({ timeout: 10000 });
if (await px.locator('.alert').count()) fail("st-2's officer sees st-1's alert");
const alertId = await pa.evaluate(() => document.querySelector('.alert')?.dataset.alert || '');
const status = await px.evaluate(async (id) => (await fetch('/v1/alerts/' + id + '/claim', { method: 'POST',
  headers: { Authorization: 'Bearer ' + localStorage.getItem('gb.token') } })).status, alertId);
if (status !== 404 && status !== 403) fail(`st-2's officer claimed st-1's alert: ${status}`);
await shot(px, 'console-other-station');
await b.close();
for (const r of relays) r.close();
console.log(`PASS: one claim won by ${winner}; both phones showed it within ${told} ms; the record filed on the phone reached the other (offline meanwhile) ${caughtUp} ms after it came back online, and the dashboard within ${onDashboard} ms; st-2's officer saw nothing and got ${status}`);
