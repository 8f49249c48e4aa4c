/* Small SVG charts for the dashboard, drawn here (no library, no network):
 * stacked bars over categories (days, or time-to-claim buckets) and a line.
 * Each chart is a <figure> with a caption, a legend in words and its data
 * as a table in <details>, so a screen reader or a printout has the figures
 * too. */
'use strict';
const GBChart = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 640, H = 220, L = 44, R = 8, T = 10, B = 28;

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* A round upper bound for the axis: four steps of 1, 2 or 5 x 10^n, so
   * every tick is a whole count. */
  function niceMax(v) {
    const raw = Math.max(1, v / 4);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return 4 * m * p;
    return 40 * p;
  }

  function frame(root, max) {
    const ticks = 4;
    for (let i = 0; i <= ticks; i++) {
      const v = (max / ticks) * i, y = T + (H - T - B) * (1 - i / ticks);
      root.appendChild(svg('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'grid' }));
      root.appendChild(svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, String(Math.round(v))));
    }
  }

  function table(labels, series, total) {
    const rows = labels.map((l, i) => GB.el('tr', {}, GB.el('th', { scope: 'row' }, l),
      series.map((s) => GB.el('td', {}, s.values[i])), total ? GB.el('td', {}, series.reduce((a, s) => a + s.values[i], 0)) : null));
    return GB.el('details', { class: 'chart-data' }, GB.el('summary', {}, '数据'),
      GB.el('table', {}, GB.el('thead', {}, GB.el('tr', {}, GB.el('th', { scope: 'col' }, ''),
        series.map((s) => GB.el('th', { scope: 'col' }, s.name)), total ? GB.el('th', { scope: 'col' }, '合计') : null)),
      GB.el('tbody', {}, rows)));
  }

  function legend(series) {
    /* The swatch's colour through the CSSOM: the pages' CSP forbids style attributes. */
    const swatch = (c) => { const e = GB.el('span', { class: 'swatch', 'aria-hidden': 'true' }); e.style.background = c; return e; };
    return GB.el('ul', { class: 'legend' }, series.map((s) => GB.el('li', {}, swatch(s.color), s.name)));
  }

  /* opts: {id, title, labels: [...], series: [{name, color, values: [...]}],
   * every (label every nth category; default fits about 8)}. */
  function bars(opts) {
    const { labels, series } = opts;
    const totals = labels.map((_, i) => series.reduce((a, s) => a + (s.values[i] || 0), 0));
    const max = niceMax(Math.max(0, ...totals));
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart',
      'aria-label': opts.title + '：' + labels.map((l, i) => l + ' ' + totals[i]).join('，') });
    frame(root, max);
    const slot = (W - L - R) / Math.max(1, labels.length), bw = Math.max(2, slot * 0.7);
    const every = opts.every || Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((l, i) => {
      const x = L + slot * i + (slot - bw) / 2;
      let y = H - B;
      for (const s of series) {
        const v = s.values[i] || 0;
        if (!v) continue;
        const h = ((H - T - B) * v) / max;
        y -= h;
        const r = svg('rect', { x, y, width: bw, height: h, fill: s.color, 'data-series': s.name, 'data-value': v });
        r.appendChild(svg('title', {}, `${l} ${s.name} ${v}`));
        root.appendChild(r);
      }
      if (i % every === 0) root.appendChild(svg('text', { x: x + bw / 2, y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, l));
    });
    return GB.el('figure', { class: 'chart-box', id: opts.id }, GB.el('figcaption', {}, opts.title), root,
      series.length > 1 ? legend(series) : null, table(labels, series, series.length > 1));
  }

  /* opts: {id, title, labels, values, color}: one line with its points. */
  function line(opts) {
    const { labels, values } = opts;
    const max = niceMax(Math.max(0, ...values));
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart',
      'aria-label': opts.title + '：' + labels.map((l, i) => l + ' ' + values[i]).join('，') });
    frame(root, max);
    const step = (W - L - R) / Math.max(1, labels.length - 1);
    const pt = (v, i) => [L + step * i, H - B - ((H - T - B) * v) / max];
    root.appendChild(svg('polyline', { points: values.map((v, i) => pt(v, i).join(',')).join(' '),
      fill: 'none', stroke: opts.color, 'stroke-width': 2.5 }));
    const every = Math.max(1, Math.ceil(labels.length / 8));
    values.forEach((v, i) => {
      const [x, y] = pt(v, i);
      const c = svg('circle', { cx: x, cy: y, r: 3.5, fill: opts.color, 'data-value': v });
      c.appendChild(svg('title', {}, `${labels[i]} ${v}`));
      root.appendChild(c);
      if (i % every === 0) root.appendChild(svg('text', { x, y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, labels[i]));
    });
    return GB.el('figure', { class: 'chart-box', id: opts.id }, GB.el('figcaption', {}, opts.title), root,
      table(labels, [{ name: opts.name || opts.title, values }], false));
  }

  return { bars, line };
})();
