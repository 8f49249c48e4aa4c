/* The bureau's overview: stations with escalated alerts first in a banner,
 * every station in one sortable table (a name opens the station's view),
 * and the bureau's charts. Figures from GET /v1/stats/alerts?station=* and
 * GET /v1/stats. */
'use strict';
const Overview = (() => {
  const $ = (id) => document.getElementById(id);
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  const OTHER = ['could_not_reach', 'money_transferred', 'not_fraud', 'duplicate', 'reassigned'];
  /* [key, heading, value, shown as] */
  const COLS = [
    ['name', '派出所', (r) => r.name],
    ['high', '待办·高风险', (r) => r.high],
    ['medium', '待办·中风险', (r) => r.medium],
    ['low', '待办·低风险', (r) => r.low],
    ['waiting', '最久未认领', (r) => r.waiting, (r) => r.waiting === null ? '—' : GB.wait(r.waiting)],
    ['esc', '已升级待办', (r) => r.esc],
    ['alerts', '今日预警', (r) => r.alerts],
    ['ttc', '认领用时中位(秒)', (r) => r.ttc],
    ['ttr', '办结用时中位(秒)', (r) => r.ttr],
    ['dissuaded', '已劝阻', (r) => r.dissuaded],
    ['other', '其他结果', (r) => r.other],
    ['protected', '守护人数', (r) => r.protected],
    ['registrations', '今日登记', (r) => r.registrations],
  ];
  let rows = [], total = null, regTotal = null, sortKey = 'esc', sortDir = -1;
  const fmt = (v) => v === null || v === undefined ? '—' : (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v);

  function row(s, r) {
    const o = s.today.outcomes || {}, risk = s.open_by_risk || {};
    return {
      id: s.station_id, name: r ? r.station.name : s.station_id,
      high: risk.high || 0, medium: risk.medium || 0, low: risk.low || 0,
      waiting: s.oldest_unclaimed ? s.oldest_unclaimed.waiting_s : null, esc: s.escalated_open || 0,
      alerts: sum(s.today.alerts), ttc: s.time_to_claim.p50_s, ttr: s.time_to_resolve.p50_s,
      dissuaded: o.dissuaded || 0, other: OTHER.reduce((a, k) => a + (o[k] || 0), 0),
      protected: r ? r.protected : null, registrations: r ? r.today.registrations : null,
    };
  }

  async function load() {
    const [al, reg] = await Promise.all([GB.call('GET', '/v1/stats/alerts?station=*'), GB.call('GET', '/v1/stats')]);
    const regBy = new Map((reg.stations || []).map((s) => [s.station.id, s]));
    rows = al.stations.map((s) => row(s, regBy.get(s.station_id)));
    total = row(al.total, null);
    regTotal = reg.total;
    render();
    banner();
    $('updated').textContent = '更新于 ' + new Date().toLocaleTimeString('zh-CN', { hour12: false });
  }

  /* Escalated alerts nobody has closed stand out above everything. */
  function banner() {
    const esc = rows.filter((r) => r.esc > 0).sort((a, b) => b.esc - a.esc);
    const b = $('escalated');
    b.hidden = !esc.length;
    if (!esc.length) return b.replaceChildren();
    const n = esc.reduce((a, r) => a + r.esc, 0);
    b.replaceChildren(GB.el('strong', {}, `${n} 条已升级的预警尚未办结：`),
      ...esc.map((r, i) => [i ? '、' : '', GB.el('a', { href: '#/station/' + encodeURIComponent(r.id) }, `${r.name} ${r.esc} 条`)]).flat());
  }

  function render() {
    const table = $('stations');
    table.tHead.rows[0].replaceChildren(...COLS.map(([k, label]) => GB.el('th', { scope: 'col',
      'aria-sort': k === sortKey ? (sortDir < 0 ? 'descending' : 'ascending') : 'none' },
      GB.el('button', { type: 'button', onclick: () => { sortDir = k === sortKey ? -sortDir : -1; sortKey = k; render(); } }, label))));
    const get = COLS.find((c) => c[0] === sortKey)[2];
    const sorted = [...rows].sort((a, b) => {
      const x = get(a), y = get(b);
      if (x === y) return a.name < b.name ? -1 : 1;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    const cell = (r, [k, , g, show], i) => i === 0
      ? GB.el('th', { scope: 'row' }, GB.el('a', { href: '#/station/' + encodeURIComponent(r.id) }, r.name))
      : GB.el('td', { class: k === 'esc' && r.esc ? 'hot' : k === 'high' && r.high ? 'risk-high-text' : null }, show ? show(r) : fmt(g(r)));
    table.tBodies[0].replaceChildren(...sorted.map((r) => GB.el('tr', { class: r.esc ? 'escalated' : null, 'data-station': r.id },
      COLS.map((c, i) => cell(r, c, i)))));
    if (total) {
      const t = { ...total, name: '合计', protected: regTotal ? regTotal.protected : null,
        registrations: regTotal ? regTotal.today.registrations : null };
      table.tFoot.replaceChildren(GB.el('tr', {}, COLS.map(([k, , g, show], i) =>
        GB.el(i ? 'td' : 'th', i ? {} : { scope: 'row' }, i ? (show ? show(t) : fmt(g(t))) : '合计'))));
    }
  }

  async function show() {
    await load();
    SeriesCharts.load('*', $('overview-charts'), 'chart-bureau').catch((e) => {
      $('overview-charts').replaceChildren(GB.el('p', { class: 'error' }, '图表暂不可用：' + e.message));
    });
  }

  return { show, load };
})();
