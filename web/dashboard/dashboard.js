/* The bureau dashboard: every station in one table, live (reloaded from
 * GET /v1/stats/alerts?station=* and GET /v1/stats on every event of the
 * bureau's stream, and every 30 s), sortable. */
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const COLS = [
    ['name', '派出所', (r) => r.name],
    ['open', '待办合计', (r) => r.open],
    ['alerts', '今日预警', (r) => r.alerts],
    ['ttc', '认领用时中位(秒)', (r) => r.ttc],
    ['ttr', '办结用时中位(秒)', (r) => r.ttr],
    ['dissuaded', '已劝阻', (r) => r.dissuaded],
    ['esc', '升级', (r) => r.esc],
    ['protected', '守护人数', (r) => r.protected],
    ['registrations', '今日登记', (r) => r.registrations],
  ];
  let rows = [], sortKey = 'open', sortDir = -1;

  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  const fmt = (v) => v === null || v === undefined ? '—' : (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v);

  async function load() {
    const [al, reg] = await Promise.all([GB.call('GET', '/v1/stats/alerts?station=*'), GB.call('GET', '/v1/stats')]);
    const regBy = new Map((reg.stations || []).map((s) => [s.station.id, s]));
    rows = al.stations.map((s) => {
      const r = regBy.get(s.station_id);
      return {
        id: s.station_id, name: r ? r.station.name : s.station_id,
        open: sum(s.open) - ((s.open || {}).info || 0),
        alerts: sum(s.today.alerts), ttc: s.time_to_claim.p50_s, ttr: s.time_to_resolve.p50_s,
        dissuaded: (s.today.outcomes || {}).dissuaded || 0, esc: sum(s.today.escalations),
        protected: r ? r.protected : null, registrations: r ? r.today.registrations : null,
      };
    });
    render(al.total, reg.total);
    $('updated').textContent = '更新于 ' + new Date().toLocaleTimeString('zh-CN', { hour12: false });
  }

  function render(total, regTotal) {
    const head = $('stations').tHead.rows[0];
    head.replaceChildren(...COLS.map(([k, label]) => GB.el('th', { scope: 'col', 'aria-sort': k === sortKey ? (sortDir < 0 ? 'descending' : 'ascending') : 'none' },
      GB.el('button', { type: 'button', onclick: () => { sortDir = k === sortKey ? -sortDir : -1; sortKey = k; render(total, regTotal); } }, label))));
    const get = COLS.find((c) => c[0] === sortKey)[2];
    const sorted = [...rows].sort((a, b) => {
      const x = get(a), y = get(b);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    $('stations').tBodies[0].replaceChildren(...sorted.map((r) => GB.el('tr', { class: r.esc ? 'escalated' : '' },
      COLS.map(([k, , g], i) => GB.el(i ? 'td' : 'th', i ? {} : { scope: 'row' }, fmt(g(r)))))));
    if (total) {
      $('stations').tFoot.replaceChildren(GB.el('tr', {}, GB.el('td', {}, '合计'),
        GB.el('td', {}, sum(total.open) - ((total.open || {}).info || 0)),
        GB.el('td', {}, sum(total.today.alerts)), GB.el('td', {}, fmt(total.time_to_claim.p50_s)),
        GB.el('td', {}, fmt(total.time_to_resolve.p50_s)), GB.el('td', {}, (total.today.outcomes || {}).dissuaded || 0),
        GB.el('td', {}, sum(total.today.escalations)), GB.el('td', {}, regTotal ? regTotal.protected : '—'),
        GB.el('td', {}, regTotal ? regTotal.today.registrations : '—')));
    }
  }

  /* Every station's events (the bureau's stream): any change reloads the
   * figures, at most twice a second. */
  let pending = null;
  function live() {
    const es = new EventSource('/v1/stream?station=*&access_token=' + encodeURIComponent(GB.token()));
    const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; load().catch(() => {}); }, 500); };
    for (const k of ['alert', 'alert.updated', 'alert.workflow', 'alert.escalated', 'alert.reminder']) es.addEventListener(k, soon);
  }

  async function start() {
    if (!GB.token()) { $('bind').hidden = false; return; }
    try {
      const me = await GB.call('GET', '/v1/me');
      $('who').hidden = false;
      $('who').textContent = me.account.name || me.account.id;
      $('board').hidden = false;
      await load();
      live();
      setInterval(() => load().catch(() => {}), 30000);
    } catch (e) {
      if (e.status === 401) { GB.setToken(null); $('bind').hidden = false; }
      else if (e.status === 403) { $('board').hidden = false; $('updated').textContent = '仅分局管理员可查看全部派出所'; }
    }
  }
  $('bind-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await GB.call('POST', '/v1/devices/bind', { code: $('code').value, device: '看板' });
      GB.setToken(r.token);
      $('bind').hidden = true;
      start();
    } catch (e) { $('bind-error').textContent = '绑定码无效或已过期：' + e.message; }
  });
  start();
})();
