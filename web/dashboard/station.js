/* One station's view: its figures, its open alerts (escalated ones first
 * and marked), its accounts (create, binding codes, deactivate) and its
 * charts. Bureau administrators open any station from the overview; a
 * station administrator lands on their own. */
'use strict';
const StationView = (() => {
  const $ = (id) => document.getElementById(id);
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  let station = null;

  function figure(label, value, hot) {
    return GB.el('div', {}, GB.el('dt', {}, label), GB.el('dd', { class: hot ? 'hot' : null }, value));
  }

  async function figures(id) {
    const [al, reg] = await Promise.all([
      GB.call('GET', '/v1/stats/alerts?station=' + encodeURIComponent(id)),
      GB.call('GET', '/v1/stats/stations/' + encodeURIComponent(id)).catch(() => null)]);
    const name = reg && reg.station ? reg.station.name : id;
    $('station-title').textContent = name + '（' + id + '）';
    const risk = al.open_by_risk || {}, o = al.today.outcomes || {};
    const p50 = (d) => d.p50_s === null || d.p50_s === undefined ? '—' : d.p50_s.toFixed(1) + ' 秒';
    $('station-figures').replaceChildren(...[
      figure('待办（高/中/低）', `${risk.high || 0} / ${risk.medium || 0} / ${risk.low || 0}`, risk.high > 0),
      figure('最久未认领', al.oldest_unclaimed ? GB.wait(al.oldest_unclaimed.waiting_s) : '—', !!al.oldest_unclaimed),
      figure('已升级待办', String(al.escalated_open || 0), al.escalated_open > 0),
      figure('今日预警', String(sum(al.today.alerts))),
      figure('认领用时中位', p50(al.time_to_claim)),
      figure('办结用时中位', p50(al.time_to_resolve)),
      figure('今日已劝阻', String(o.dissuaded || 0)),
      figure('守护人数', reg ? String(reg.protected) : '—'),
      figure('今日登记', reg ? String(reg.today.registrations) : '—'),
    ]);
  }

  async function alerts(id) {
    const r = await GB.call('GET', '/v1/alerts?state=open&limit=200&station=' + encodeURIComponent(id));
    const now = Date.now();
    const esc = (a) => (a.workflow && a.workflow.escalation_level) || 0;
    const list = [...r.alerts].sort((x, y) => (esc(y) > 0) - (esc(x) > 0) ||
      GB.RISK_ORDER[y.risk] - GB.RISK_ORDER[x.risk] || Date.parse(x.workflow.arrived) - Date.parse(y.workflow.arrived));
    $('station-alerts-empty').hidden = list.length > 0;
    $('station-alerts').hidden = !list.length;
    $('station-alerts').tBodies[0].replaceChildren(...list.map((a) => {
      const w = a.workflow || {};
      return GB.el('tr', { class: 'risk-' + a.risk + (esc(a) ? ' escalated' : ''), 'data-alert': a.alert_id },
        GB.el('td', { class: 'badge' }, GB.RISK[a.risk] || a.risk, esc(a) ? GB.el('span', { class: 'esc' }, ' 已升级') : null),
        GB.el('td', {}, GB.STATE[w.state] || w.state, w.claimed_by ? ' · ' + (w.claimed_by_name || w.claimed_by) : ''),
        GB.el('td', {}, GB.phone(a.subject)),
        GB.el('td', { class: 'evidence-cell' }, GB.evidence(a)),
        GB.el('td', {}, GB.time(w.arrived)),
        GB.el('td', {}, w.state === 'new' ? GB.wait((now - Date.parse(w.arrived)) / 1000) : '—'));
    }));
  }

  async function code(id) {
    const c = await GB.call('POST', '/v1/accounts/' + encodeURIComponent(id) + '/binding-code');
    $('code-shown').replaceChildren(`${id} 的绑定码：`, GB.el('strong', { class: 'code' }, c.code), `，${GB.time(c.expires)} 前有效，仅可使用一次。`);
  }

  /* Deactivating takes a second click within 5 s: it signs the account's devices out at once. */
  function deactivateButton(acc) {
    const b = GB.el('button', { type: 'button' }, '停用');
    let armed = null;
    b.addEventListener('click', async () => {
      if (!armed) {
        b.textContent = '确认停用？';
        armed = setTimeout(() => { armed = null; b.textContent = '停用'; }, 5000);
        return;
      }
      clearTimeout(armed);
      await GB.call('POST', '/v1/accounts/' + encodeURIComponent(acc.id) + '/deactivate');
      $('code-shown').textContent = `${acc.id} 已停用，其设备已退出。`;
      accounts(station);
    });
    return b;
  }

  async function accounts(id) {
    const r = await GB.call('GET', '/v1/accounts?station=' + encodeURIComponent(id));
    $('station-accounts').tBodies[0].replaceChildren(...r.accounts.map((acc) => GB.el('tr', { 'data-account': acc.id },
      GB.el('th', { scope: 'row' }, acc.id), GB.el('td', {}, acc.name || ''), GB.el('td', {}, GB.ROLE[acc.role] || acc.role),
      GB.el('td', { class: acc.active ? null : 'muted' }, acc.active ? '在用' : '已停用'),
      GB.el('td', {}, acc.active ? [GB.el('button', { type: 'button', onclick: () => code(acc.id).catch(showError) }, '生成绑定码'),
        deactivateButton(acc)] : null))));
  }

  function showError(e) { $('account-error').textContent = e.message; }

  $('account-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('account-error').textContent = '';
    try {
      const id = $('acc-id').value.trim();
      await GB.call('POST', '/v1/accounts', { id, name: $('acc-name').value.trim(), role: $('acc-role').value, station_id: station });
      await code(id);
      $('account-form').reset();
      await accounts(station);
    } catch (e) { showError(e); }
  });

  async function show(id) {
    station = id;
    $('code-shown').textContent = '';
    $('account-error').textContent = '';
    await Promise.all([figures(id), alerts(id), accounts(id).catch(() => {
      $('station-accounts').tBodies[0].replaceChildren();
    })]);
    SeriesCharts.load(id, $('station-charts'), 'chart-station').catch((e) => {
      $('station-charts').replaceChildren(GB.el('p', { class: 'error' }, '图表暂不可用：' + e.message));
    });
  }

  /* Live: the figures and alerts again (not the accounts: a form may be half filled). */
  async function refresh() {
    if (station) await Promise.all([figures(station), alerts(station)]);
  }

  return { show, refresh, current: () => station };
})();
