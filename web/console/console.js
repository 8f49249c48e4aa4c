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

  /* The station's feed from its beginning (the browser then resumes from the
   * last event id by itself after a drop). */
  function listen(station) {
    const url = '/v1/stream?station=' + encodeURIComponent(station) + '&last_event_id=0-0&access_token=' + encodeURIComponent(GB.token());
    source = new EventSource(url);
    const conn = $('conn');
    source.onopen = () => { conn.hidden = false; conn.textContent = '实时连接中'; conn.className = 'conn ok'; };
    source.onerror = () => { conn.hidden = false; conn.textContent = '连接中断，正在重连…'; conn.className = 'conn bad'; };
    for (const kind of ['alert', 'alert.updated', 'alert.escalated', 'alert.reminder']) {
      source.addEventListener(kind, (e) => onAlert(kind, JSON.parse(e.data)));
    }
    source.addEventListener('alert.workflow', (e) => onWorkflow(JSON.parse(e.data)));
  }

  function onAlert(kind, a) {
    const cur = alerts.get(a.alert_id);
    const item = cur || { state: 'new', claimed_by: '' };
    const isNew = !cur;
    if (!cur || (a.revision || 0) >= (cur.a.revision || 0)) item.a = a;
    if (a.escalation) item.escalation = a.escalation;
    if (a.reminder) item.reminder = a.reminder;
    alerts.set(a.alert_id, item);
    if (isNew && a.risk === 'high' && !document.hidden) attention();
    render();
  }

  function onWorkflow(w) {
    const item = alerts.get(w.alert_id);
    if (!item) return;
    item.state = w.state;
    item.claimed_by = w.claimed_by || '';
    if (w.details && w.action === 'resolve') item.record = w.details;
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
    return [...alerts.values()].sort((x, y) =>
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
        GB.el('span', { class: 'evidence' }, it.a.evidence),
        GB.el('time', { datetime: it.a.updated }, GB.time(it.a.updated))))));
    $('empty').hidden = alerts.size > 0;
    if (openId) renderDetail();
  }

  function openAlert(id) {
    openId = id;
    show('detail');
    renderDetail();
    $('detail-title').focus();
  }

  $('back').addEventListener('click', () => { openId = null; show('list'); });

  function telLink(n, label) {
    return GB.el('a', { href: 'tel:' + n, class: 'tel' }, label ? label + ' ' : '', GB.phone(n));
  }

  function renderDetail() {
    const it = alerts.get(openId);
    if (!it) return;
    const a = it.a, mine = me && it.claimed_by === (me.account || me).id;
    const others = (a.protectors || []).filter((p) => p.registrant !== a.subject);
    $('detail-body').replaceChildren(...[
      GB.el('p', { class: 'risk-line risk-' + a.risk }, GB.RISK[a.risk], ' · ', GB.STATE[it.state] || it.state,
        it.claimed_by ? ' · 认领人 ' + it.claimed_by : ''),
      GB.el('p', { class: 'evidence-full' }, a.evidence),
      GB.el('h3', {}, '当事人'),
      GB.el('p', {}, telLink(a.subject, '拨打')),
      others.length ? GB.el('h3', {}, '联系不上时，先联系') : null,
      others.length ? GB.el('ul', { class: 'people' }, others.map((p) =>
        GB.el('li', {}, '登记人（当事人是其' + p.relation + '）：', telLink(p.registrant)))) : null,
      GB.el('h3', {}, '证据'),
      GB.el('ul', { class: 'events' }, (a.events || []).map((e) => GB.el('li', {},
        GB.time(e.time), ' ',
        e.call ? '与 ' + e.call.counterpart + (e.call.outgoing ? ' 去电 ' : ' 来电 ') + e.call.duration_s + ' 秒' : '',
        e.visit ? (e.visit.kind === 'app' ? '安装应用 ' : '访问网站 ') + e.visit.target : ''))),
      it.escalation ? GB.el('p', { class: 'esc' }, '已升级至' + (it.escalation.to === 'bureau' ? '分局' : '所领导')) : null,
      it.reminder ? GB.el('p', { class: 'esc' }, '提醒：已认领未填记录') : null].filter(Boolean));
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
