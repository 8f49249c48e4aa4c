/* The HTTP API of notifier (docs/API.md) for the pages: the device token
 * kept in localStorage, JSON in and out, errors as exceptions that carry
 * the server's words. */
'use strict';
const GB = {
  token() { return localStorage.getItem('gb.token'); },
  setToken(t) { if (t) localStorage.setItem('gb.token', t); else localStorage.removeItem('gb.token'); },
  async call(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    const t = GB.token();
    if (t) headers['Authorization'] = 'Bearer ' + t;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const err = new Error((data && data.error) || ('HTTP ' + r.status));
      err.status = r.status;
      err.data = data;
      throw err;
    }
    return data;
  },
  /* A text node's worth of a value: pages never insert server text as HTML. */
  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  },
  RISK: { high: '高风险', medium: '中风险', low: '低风险' },
  STATE: { new: '待认领', claimed: '已认领', resolved: '已办结', disputed: '有异议', reassigned: '已移交', info: '仅提醒本人' },
  RISK_ORDER: { high: 3, medium: 2, low: 1 },
  /* "+8613800138000" -> "138 0013 8000" for reading; tel: keeps the number. */
  phone(n) {
    const d = n.startsWith('+86') ? n.slice(3) : n;
    return d.length === 11 ? d.slice(0, 3) + ' ' + d.slice(3, 7) + ' ' + d.slice(7) : n;
  },
  /* A wait in words: "45秒", "12分", "1小时5分", "2天3小时". */
  wait(s) {
    if (s < 60) return Math.max(0, Math.round(s)) + '秒';
    const m = Math.floor(s / 60);
    if (m < 60) return m + '分';
    const h = Math.floor(m / 60);
    if (h < 24) return h + '小时' + (m % 60 ? (m % 60) + '分' : '');
    return Math.floor(h / 24) + '天' + (h % 24 ? (h % 24) + '小时' : '');
  },
  ROLE: { officer: '民警', station_admin: '所管理员', bureau_admin: '分局管理员' },
  /* The evidence in the officers' language when matcher gave it. */
  evidence(a) { return a.evidence_zh || a.evidence || ''; },
  time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' });
  },
};
