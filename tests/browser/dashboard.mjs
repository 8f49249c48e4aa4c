// The bureau dashboard on a PC-sized page and what it manages:
// - the overview: the station's escalated alert stands out (banner and
//   row), open alerts by risk, the charts drawn from the day's figures;
//   sorting and opening a station from the keyboard;
// - a station's view: the escalated alert first and marked; a new officer
//   created there gets a binding code, binds a phone, opens the alert and
//   sees the person (name, age, occupation), the family number with its
//   relation and the evidence in Chinese; deactivated, the phone is signed out;
// - station management: a unit created and deactivated (no longer offered
//   to citizens);
// - a station administrator lands on their own station's view;
// - every page: text contrast at least 4.5:1, labelled fields, no
//   sideways scrolling (phone pages at 360 px).
import { browser, bind, shot, fail, lowContrast, layoutProblems, PHONE, PC } from './lib.mjs';

const [codeBureau, codeStationAdmin, subject, family] = process.argv.slice(2);
const b = await browser();
const checked = [];
async function check(page, name, width) {
  const bad = [...await lowContrast(page), ...await layoutProblems(page, width)];
  if (bad.length) fail(`${name}: ${bad.join('; ')}`);
  checked.push(name);
}
const pd = await (await b.newContext(PC)).newPage();
pd.on('pageerror', (e) => fail('dashboard page error: ' + e.message));
await bind(pd, '/dashboard/', codeBureau);
const row = pd.locator('#stations tbody tr[data-station="st-1"]');
await row.waitFor({ timeout: 10000 });

// The alert escalates (3 s): the banner names the station, the row is marked.
await pd.locator('#escalated', { hasText: '思明派出所 1 条' }).waitFor({ timeout: 15000 });
await pd.locator('#stations tbody tr.escalated[data-station="st-1"]').waitFor({ timeout: 5000 });
const heads = await pd.locator('#stations thead th').allTextContents();
const cellOf = async (label) => (await row.locator('th, td').nth(heads.indexOf(label)).textContent());
if ((await cellOf('待办·高风险')) !== '1') fail('st-1 should have 1 open high-risk alert: ' + await cellOf('待办·高风险'));
if ((await cellOf('已升级待办')) !== '1') fail('st-1 should have 1 escalated open alert');
if ((await cellOf('最久未认领')) === '—') fail('st-1 has an unclaimed alert: its wait is shown');

// The charts: today's alerts by risk (1 high), registrations growing to 1.
await pd.locator('#chart-bureau-alerts svg').waitFor({ timeout: 10000 });
const charted = await pd.evaluate(() => ({
  alerts: [...document.querySelectorAll('#chart-bureau-alerts rect')].map((r) => [r.dataset.series, Number(r.dataset.value)]),
  regs: [...document.querySelectorAll('#chart-bureau-registrations circle')].map((c) => Number(c.dataset.value)),
  ttc: document.querySelectorAll('#chart-bureau-ttc svg').length,
  outcomes: document.querySelectorAll('#chart-bureau-outcomes svg').length,
}));
if (JSON.stringify(charted.alerts) !== JSON.stringify([['高风险', 1]])) fail('alerts chart: ' + JSON.stringify(charted.alerts));
if (charted.regs.length !== 14 || charted.regs[13] !== 1) fail('registrations chart: ' + charted.regs);
if (!charted.ttc || !charted.outcomes) fail('the time-to-claim or outcomes chart is missing');
await check(pd, 'dashboard overview', 1280);
await shot(pd, 'dashboard');

// From the keyboard: sort by a column, then open the station.
const sortTh = pd.locator('#stations thead th').nth(heads.indexOf('今日预警'));
await sortTh.locator('button').focus();
await pd.keyboard.press('Enter');
await pd.waitForFunction(() => [...document.querySelectorAll('#stations thead th')].some((th) =>
  th.textContent === '今日预警' && th.getAttribute('aria-sort') === 'descending'), null, { timeout: 2000 });
await pd.locator('#stations tbody a', { hasText: '思明派出所' }).focus();
await pd.keyboard.press('Enter');
await pd.locator('#station-title', { hasText: '思明派出所' }).waitFor({ timeout: 5000 });
await pd.locator('#station-alerts tbody tr.escalated', { hasText: '已升级' }).waitFor({ timeout: 5000 });
await pd.locator('#chart-station-alerts svg').waitFor({ timeout: 5000 });
await check(pd, 'station view', 1280);

// A new officer, created here, binds a phone with the code shown.
await pd.getByLabel('账号（小写字母、数字、. _ -）').fill('o-new');
await pd.getByLabel('姓名').fill('新民警');
await pd.getByRole('button', { name: '新增并生成绑定码' }).click();
const code = await pd.locator('#code-shown .code').textContent({ timeout: 5000 });
await pd.locator('#station-accounts tbody tr[data-account="o-new"]', { hasText: '在用' }).waitFor({ timeout: 5000 });
await shot(pd, 'dashboard-station');
const pp = await (await b.newContext(PHONE)).newPage();
pp.on('pageerror', (e) => fail('console page error: ' + e.message));
await bind(pp, '/console/', code);
await pp.locator('.alert .subject', { hasText: subject.slice(3, 6) }).first().waitFor({ timeout: 10000 });
await pp.locator('.alert-open').first().click();
await pp.locator('.person', { hasText: '张三 · 70岁 · 退休教师' }).waitFor({ timeout: 5000 });
const fam = pp.locator('.people li', { hasText: '母亲' });
await fam.waitFor({ timeout: 5000 });
if ((await fam.locator('a.tel').getAttribute('href')) !== 'tel:' + family) fail('the family number is not a tap-to-call link');
const evidence = await pp.locator('.evidence-full').textContent();
if (!/诈骗号码/.test(evidence)) fail('the evidence is not in Chinese: ' + evidence);
await check(pp, 'console alert (360 px)', 360);
await shot(pp, 'console-person');

// Deactivated (two clicks): the phone is signed out.
const acct = pd.locator('#station-accounts tbody tr[data-account="o-new"]');
await acct.getByRole('button', { name: '停用' }).click();
await acct.getByRole('button', { name: '确认停用？' }).click();
await pd.locator('#station-accounts tbody tr[data-account="o-new"]', { hasText: '已停用' }).waitFor({ timeout: 5000 });
await pp.reload();
await pp.locator('#bind').waitFor({ state: 'visible', timeout: 5000 });

// Station management: a unit created, then deactivated.
await pd.getByRole('link', { name: '派出所与账号管理' }).click();
await pd.locator('#units tbody tr[data-unit="st-1"]').waitFor({ timeout: 5000 });
await pd.getByLabel('编号（字母、数字、. _ -）').fill('st-3');
await pd.getByLabel('名称').fill('集美派出所');
await pd.getByLabel('所属分局编号').fill('b-1');
await pd.getByLabel('纬度').fill('24.5757');
await pd.getByLabel('经度').fill('118.0970');
await pd.getByRole('button', { name: '保存' }).click();
const unit = pd.locator('#units tbody tr[data-unit="st-3"]');
await unit.filter({ hasText: '在用' }).waitFor({ timeout: 5000 });
const offered = async () => pd.evaluate(async () => (await (await fetch('/v1/stations?name=' + encodeURIComponent('集美'))).json()).stations.map((s) => s.id));
if (JSON.stringify(await offered()) !== '["st-3"]') fail('the new station is not offered: ' + await offered());
await check(pd, 'station management', 1280);
await shot(pd, 'dashboard-manage');
await unit.getByRole('button', { name: '停用' }).click();
await pd.locator('#units tbody tr[data-unit="st-3"]', { hasText: '已停用' }).waitFor({ timeout: 5000 });
if ((await offered()).length) fail('a deactivated station is still offered: ' + await offered());

// A station administrator lands on their own station.
const ps = await (await b.newContext(PC)).newPage();
ps.on('pageerror', (e) => fail('station admin page error: ' + e.message));
await bind(ps, '/dashboard/', codeStationAdmin);
await ps.locator('#station-title', { hasText: '思明派出所' }).waitFor({ timeout: 10000 });
if (await ps.locator('#nav').isVisible()) fail("the station administrator sees the bureau's navigation");
await b.close();
console.log(`PASS: escalation on the overview and the station view; charts 1 high alert, registrations to 1; a new officer bound, saw 张三's details and the family number, was signed out on deactivation; st-3 created and deactivated; contrast and layout checked on: ${checked.join(', ')}`);
