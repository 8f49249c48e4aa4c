/* The officer console: bind the device, then the station's alerts live
 * (Server-Sent Events, resumed by the browser after a dropped connection),
 * newest and riskiest first; an alert's page with the evidence, every
 * number to call, and claim / release / record / dispute. */
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const alerts = new Map(); /* alert_id -> {a: alert JSON, state, claimed_by, escalation, reminder} */
  let me = null, source = null, openId = null;

  function show(section) {
    for (const s of ['bind', 'list', 'detail']) $(s).hidden = s !== section;
  }

  async function start() {
    if (!GB.token()) return showBind();
    try {
      me = await GB.call('GET', '/v1/me');
    } catch (e) {
      if (e.status === 401) { GB.setToken(null); return showBind(); }
      $('conn').hidden = false;
      $('conn').textContent = '无法连接服务器，稍后重试';
      return setTimeout(start, 3000);
    }
    const acc = me.account || me;
    $('who').hidden = false;
    $('who').textContent = (acc.name || acc.id) + ' · ' + (acc.station_id || acc.station || '');
    show('list');
    listen(acc.station_id || acc.station);
  }

  function showBind() {
    show('bind');
    $('code').focus();
  }

  $('bind-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('bind-error').textContent = '';
    try {
      const r = await GB.call('POST', '/v1/devices/bind', { code: $('code').value, device: $('device').value || '手机' });
      GB.setToken(r.token);
      start();
    } catch (e) {
      $('bind-error').textContent = e.status === 429 ? '错误次数过多，请稍后再试' : '绑定码无效或已过期：' + e.message;
    }
  });

  /* Live events from now on, and the station's alerts as they stand from
   * the listing (again after every reconnection). An item an event changed
   * after the listing was asked for keeps the event's state: the event is
   * newer. */
  let clock = 0;
  function listen(station) {
    const url = '/v1/stream?station=' + encodeURIComponent(station) + '&access_token=' + encodeURIComponent(GB.token());
    source = new EventSource(url);
    const conn = $('conn');
    source.onopen = () => {
      conn.hidden = false; conn.textContent = '实时连接中'; conn.className = 'conn ok';
      loadList(station).catch(() => { conn.textContent = '列表加载失败，正在重试…'; conn.className = 'conn bad'; });
    };
    source.onerror = () => { conn.hidden = false; conn.textContent = '连接中断，正在重连…'; conn.className = 'conn bad'; };
    for (const kind of ['alert', 'alert.updated', 'alert.escalated', 'alert.reminder']) {
      source.addEventListener(kind, (e) => onAlert(kind, JSON.parse(e.data)));
    }
    source.addEventListener('alert.workflow', (e) => onWorkflow(JSON.parse(e.data)));
  }

  async function loadList(station) {
    const asked = clock;
    const r = await GB.call('GET', '/v1/alerts?state=all&limit=200&station=' + encodeURIComponent(station));
    for (const a of r.alerts) {
      const w = a.workflow || {};
      const cur = alerts.get(a.alert_id);
      if (cur && cur.t > asked) { if (!cur.a) cur.a = a; continue; }
      alerts.set(a.alert_id, { a, t: asked, state: w.state || 'new', claimed_by: w.claimed_by || '',
        escalation: w.escalation_level ? { level: w.escalation_level } : null, record: w.record || null });
    }
    $('list').setAttribute('aria-busy', 'false');
    render();
  }

  function onAlert(kind, a) {
    const cur = alerts.get(a.alert_id);
    const item = cur || { state: 'new', claimed_by: '' };
    const isNew = !cur || !cur.a;
    if (!item.a || (a.revision || 0) >= (item.a.revision || 0)) item.a = a;
    if (a.escalation) item.escalation = a.escalation;
    if (a.reminder) item.reminder = a.reminder;
    item.t = ++clock;
    alerts.set(a.alert_id, item);
    if (isNew && kind === 'alert' && a.risk === 'high' && !document.hidden) attention();
    render();
  }

  function onWorkflow(w) {
    const item = alerts.get(w.alert_id) || { claimed_by: '' };
    item.state = w.state;
    item.claimed_by = w.claimed_by || '';
    if (w.details && w.action === 'resolve') item.record = w.details;
    item.t = ++clock;
    alerts.set(w.alert_id, item);
    render();
  }

  /* A new high-risk alert: vibrate, and a short tone (made here: no file). */
  function attention() {
    if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const o = ctx.createOscillator();
      o.frequency.value = 880;
      o.connect(ctx.destination);
      o.start();
      o.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no audio before a user gesture: the vibration and colour remain */ }
  }

  const OPEN = { new: 0, claimed: 1, disputed: 2 };
  function sorted() {
    return [...alerts.values()].filter((it) => it.a).sort((x, y) =>
      ((OPEN[x.state] ?? 9) - (OPEN[y.state] ?? 9)) ||
      (GB.RISK_ORDER[y.a.risk] - GB.RISK_ORDER[x.a.risk]) ||
      (Date.parse(y.a.updated) - Date.parse(x.a.updated)));
  }

  function render() {
    const ul = $('alerts');
    ul.replaceChildren(...sorted().map((it) => GB.el('li', { class: 'alert risk-' + it.a.risk + (it.escalation ? ' escalated' : ''), 'data-alert': it.a.alert_id },
      GB.el('button', { type: 'button', class: 'alert-open', onclick: () => openAlert(it.a.alert_id) },
        GB.el('span', { class: 'badge' }, GB.RISK[it.a.risk] || it.a.risk),
        GB.el('span', { class: 'state', 'data-state': it.state }, GB.STATE[it.state] || it.state,
          it.claimed_by ? ' · ' + it.claimed_by : ''),
        it.escalation ? GB.el('span', { class: 'esc' }, '已升级') : null,
        GB.el('span', { class: 'subject' }, GB.phone(it.a.subject)),
        GB.el('span', { class: 'evidence' }, GB.evidence(it.a)),
        GB.el('time', { datetime: it.a.updated }, GB.time(it.a.updated))))));
    $('empty').hidden = ul.children.length > 0;
    if (openId) renderDetail();
  }

  function openAlert(id) {
    openId = id;
    show('detail');
    renderDetail();
    $('detail-title').focus();
    /* The people (names from the sealed registration; the read is audited). */
    const it = alerts.get(id);
    GB.call('GET', '/v1/alerts/' + encodeURIComponent(id)).then((d) => {
      if (it) { it.people = d.people || null; it.record = (d.workflow && d.workflow.record) || it.record; }
      if (openId === id) renderDetail();
    }).catch(() => { /* the alert's own numbers remain */ });
  }

  $('back').addEventListener('click', () => { openId = null; show('list'); });

  function telLink(n, label) {
    return GB.el('a', { href: 'tel:' + n, class: 'tel' }, label ? label + ' ' : '', GB.phone(n));
  }

  /* "张三 · 67岁 · 退休教师" from what the registration gave. */
  function about(p) {
    return [p.name, p.age ? p.age + '岁' : null, p.occupation].filter(Boolean).join(' · ');
  }

  /* Who to call: the subject, then (when they do not answer) the family
   * numbers with their relation, then the registrants who protect them. */
  function people(it) {
    const a = it.a;
    if (!it.people) {
      return { subject: { phone: a.subject }, next: (a.protectors || []).filter((p) => p.registrant !== a.subject)
        .map((p) => ({ phone: p.registrant, role: 'registrant', relation: p.relation })) };
    }
    const subject = it.people.find((p) => p.role === 'subject') || { phone: a.subject };
    const rank = { family: 0, registrant: 1 };
    const next = it.people.filter((p) => p !== subject && p.phone !== subject.phone)
      .sort((x, y) => (rank[x.role] ?? 2) - (rank[y.role] ?? 2));
    return { subject, next };
  }

  function personLine(p) {
    const who = p.role === 'family' ? (p.relation || '家属') : '登记人' + (p.relation ? '（当事人是其' + p.relation + '）' : '');
    const more = about(p);
    return GB.el('li', {}, GB.el('span', { class: 'relation' }, who), more ? ' ' + more : '', ' ', telLink(p.phone));
  }

  const METHOD = { call: '电话劝阻', visit: '上门劝阻', reached_family: '联系家属' };
  const OUTCOME = { dissuaded: '已劝阻', could_not_reach: '联系不上', money_transferred: '已转账', not_fraud: '非诈骗' };

  function renderDetail() {
    const it = alerts.get(openId);
    if (!it || !it.a) return;
    const a = it.a, mine = me && it.claimed_by === (me.account || me).id;
    const { subject, next } = people(it);
    const rec = it.record;
    $('detail-body').replaceChildren(...[
      GB.el('p', { class: 'risk-line risk-' + a.risk }, GB.RISK[a.risk], ' · ', GB.STATE[it.state] || it.state,
        it.claimed_by ? ' · 认领人 ' + it.claimed_by : ''),
      GB.el('p', { class: 'evidence-full' }, GB.evidence(a)),
      GB.el('h3', {}, '当事人'),
      about(subject) ? GB.el('p', { class: 'person' }, about(subject)) : null,
      GB.el('p', {}, telLink(subject.phone || a.subject, '拨打')),
      next.length ? GB.el('h3', {}, '联系不上时，先联系') : null,
      next.length ? GB.el('ul', { class: 'people' }, next.map(personLine)) : null,
      GB.el('h3', {}, '证据'),
      GB.el('ul', { class: 'events' }, (a.events || []).map((e) => GB.el('li', {},
        GB.time(e.time), ' ',
        e.call ? '与 ' + e.call.counterpart + (e.call.outgoing ? ' 去电 ' : ' 来电 ') + e.call.duration_s + ' 秒' : '',
        e.visit ? (e.visit.kind === 'app' ? '安装应用 ' : '访问网站 ') + e.visit.target : ''))),
      it.escalation ? GB.el('p', { class: 'esc' }, '已升级' + (it.escalation.to ? '至' + (it.escalation.to === 'bureau' ? '分局' : '所领导') : '')) : null,
      it.reminder ? GB.el('p', { class: 'esc' }, '提醒：已认领未填记录') : null,
      rec ? GB.el('p', { class: 'record' }, '劝阻记录：', [METHOD[rec.method] || rec.method, OUTCOME[rec.outcome] || rec.outcome,
        rec.amount ? rec.amount + ' 元' : null, rec.notes].filter(Boolean).join(' · ')) : null].filter(Boolean));
    const act = (label, action, cls) => GB.el('button', { type: 'button', class: cls || '', onclick: () => doAction(action) }, label);
    const buttons = [];
    if (it.state === 'new') buttons.push(act('认领', 'claim', 'primary'));
    if (it.state === 'claimed' && mine) buttons.push(act('填写劝阻记录', 'resolve-form', 'primary'), act('释放', 'release'));
    if (it.state === 'new' || it.state === 'claimed') buttons.push(act('提出异议', 'dispute-form'));
    $('actions').replaceChildren(...buttons);
    $('action-error').textContent = '';
  }

  async function doAction(action) {
    if (action === 'resolve-form') { $('resolve-form').hidden = false; $('dispute-form').hidden = true; return $('method').focus(); }
    if (action === 'dispute-form') { $('dispute-form').hidden = false; $('resolve-form').hidden = true; return $('reason').focus(); }
    await send(action);
  }

  async function send(action, body) {
    $('action-error').textContent = '';
    try {
      const w = await GB.call('POST', '/v1/alerts/' + encodeURIComponent(openId) + '/' + action, body);
      onWorkflow(w);
      $('resolve-form').hidden = $('dispute-form').hidden = true;
    } catch (e) {
      const by = e.data && e.data.claimed_by;
      $('action-error').textContent = by ? '已被 ' + by + ' 认领' : e.message;
    }
  }

  $('outcome').addEventListener('change', () => {
    const money = $('outcome').value === 'money_transferred';
    $('amount').hidden = $('amount-label').hidden = !money;
    $('amount').required = money;
  });
  $('reason').addEventListener('change', () => {
    const wrong = $('reason').value === 'wrong_station';
    $('right-station').hidden = $('right-station-label').hidden = !wrong;
  });
  $('resolve-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { method: $('method').value, outcome: $('outcome').value, notes: $('notes').value };
    if (body.outcome === 'money_transferred') body.amount = Number($('amount').value);
    send('resolve', body);
  });
  $('dispute-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { reason: $('reason').value, notes: $('dispute-notes').value };
    if (body.reason === 'wrong_station') body.station_id = $('right-station').value;
    send('dispute', body);
  });

  start();
})();
