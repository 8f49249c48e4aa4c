/* The charts of a station's or the bureau's last days, from
 * GET /v1/stats/series: alerts by risk, outcomes, the time-to-claim
 * distribution and how registrations grow. */
'use strict';
const SeriesCharts = (() => {
  const OUTCOMES = [
    ['dissuaded', '已劝阻', '#1b5e20'], ['could_not_reach', '联系不上', '#9a5b00'],
    ['money_transferred', '已转账', '#b00020'], ['not_fraud', '非诈骗', '#555555'],
    ['duplicate', '重复', '#7b5ea7'], ['reassigned', '已移交', '#2e5e8c'],
  ];
  const RISKS = [['high', '#b00020'], ['medium', '#c77700'], ['low', '#2e5e8c']];
  const BUCKETS = ['≤30秒', '30秒–1分', '1–2分', '2–5分', '5–10分', '10–30分', '30–60分', '>1小时'];

  /* "2026-11-23" -> "11-23" */
  const short = (d) => d.slice(5);

  function charts(s, prefix) {
    const labels = s.days.map((d) => short(d.day));
    const alerts = GBChart.bars({ id: prefix + '-alerts', title: '每日预警（按风险）', labels,
      series: RISKS.map(([k, c]) => ({ name: GB.RISK[k], color: c, values: s.days.map((d) => (d.alerts || {})[k] || 0) })) });
    const outcomes = GBChart.bars({ id: prefix + '-outcomes', title: '每日办结结果', labels,
      series: OUTCOMES.map(([k, n, c]) => ({ name: n, color: c, values: s.days.map((d) => (d.outcomes || {})[k] || 0) })) });
    const ttc = s.time_to_claim || { counts: [] };
    const claim = GBChart.bars({ id: prefix + '-ttc', title: '认领用时分布（近 ' + s.days.length + ' 天的认领）',
      labels: BUCKETS, every: 1, series: [{ name: '认领次数', color: '#0b4f8a', values: BUCKETS.map((_, i) => ttc.counts[i] || 0) }] });
    let acc = 0;
    const grow = GBChart.line({ id: prefix + '-registrations', title: '登记增长（近 ' + s.days.length + ' 天累计新增登记）',
      name: '累计新增', labels, color: '#1b5e20', values: s.days.map((d) => (acc += d.registrations || 0)) });
    return [alerts, outcomes, claim, grow];
  }

  async function load(station, into, prefix) {
    const s = await GB.call('GET', '/v1/stats/series?days=14&station=' + encodeURIComponent(station));
    into.replaceChildren(...charts(s, prefix));
    return s;
  }

  return { load };
})();
