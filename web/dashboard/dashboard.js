/* The bureau dashboard: binds the PC, then routes between the overview
 * (#/), a station's view (#/station/<id>) and station management
 * (#/manage). Live: any event on the stream the account may read (the
 * bureau's `*`, or a station administrator's own station) reloads what is
 * shown, at most twice a second, and every 30 s. */
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  let me = null;

  const isBureau = () => me && me.role === 'bureau_admin';

  function route() {
    const h = location.hash.replace(/^#/, '') || '/';
    const m = h.match(/^\/station\/([^/]+)$/);
    if (!isBureau()) return { view: 'station', id: me.station_id };
    if (m) return { view: 'station', id: decodeURIComponent(m[1]) };
    if (h === '/manage') return { view: 'manage' };
    return { view: 'overview' };
  }

  function failed(e) {
    if (e.status === 401) { GB.setToken(null); location.reload(); return; }
    $('updated').textContent = '暂不可用：' + e.message;
  }

  async function render() {
    const r = route();
    for (const v of ['overview', 'station', 'manage']) $(v).hidden = v !== r.view;
    try {
      if (r.view === 'overview') await Overview.show();
      else if (r.view === 'station') {
        await StationView.show(r.id);
        $('station-title').focus();
      } else {
        await Manage.show();
        $('manage-title').focus();
      }
    } catch (e) { failed(e); }
  }

  async function refresh() {
    const r = route();
    if (r.view === 'overview') await Overview.load();
    else if (r.view === 'station') await StationView.refresh();
  }

  let pending = null;
  function live() {
    const st = isBureau() ? '*' : me.station_id;
    const es = new EventSource('/v1/stream?station=' + encodeURIComponent(st) + '&access_token=' + encodeURIComponent(GB.token()));
    const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; refresh().catch(failed); }, 500); };
    for (const k of ['alert', 'alert.updated', 'alert.workflow', 'alert.escalated', 'alert.reminder']) es.addEventListener(k, soon);
  }

  async function start() {
    if (!GB.token()) { $('bind').hidden = false; $('code').focus(); return; }
    try {
      const r = await GB.call('GET', '/v1/me');
      me = r.account;
    } catch (e) {
      if (e.status === 401) { GB.setToken(null); $('bind').hidden = false; return; }
      $('who').hidden = false;
      $('who').textContent = '无法连接服务器，稍后重试';
      setTimeout(start, 3000);
      return;
    }
    $('who').hidden = false;
    $('who').textContent = (me.name || me.id) + ' · ' + (GB.ROLE[me.role] || me.role);
    $('nav').hidden = !isBureau();
    document.body.classList.toggle('can-manage', me.role !== 'officer');
    window.addEventListener('hashchange', render);
    await render();
    live();
    setInterval(() => refresh().catch(failed), 30000);
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
