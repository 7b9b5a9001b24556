/* Shifan console: what every page shares (labels in two languages, the API). */
'use strict';

const Console = (() => {
  const params = new URLSearchParams(location.search);
  let lang = params.get('lang') || localStorage.getItem('shifan-lang') || 'zh';
  const labels = {};

  /* Registers labels: {key: [chinese, english]}. */
  function define(table) { Object.assign(labels, table); }
  function t(key) {
    const pair = labels[key];
    if (!pair) return key;
    return lang === 'en' && pair[1] ? pair[1] : pair[0];
  }
  /* Fills every element with data-t="key" with its label. */
  function translate(root) {
    (root || document).querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  }
  function setLang(next) {
    lang = next;
    localStorage.setItem('shifan-lang', next);
  }

  /* GET /api/session, once per page: whether a login is needed, who is
   * logged in and the CSRF token every change carries. */
  let session = null;
  async function sessionInfo() {
    if (!session) {
      const response = await fetch('/api/session');
      session = response.ok ? await response.json() : { login_required: false };
    }
    return session;
  }

  /* Every page's requests go through here: a change (any method but GET)
   * carries the session's token in X-CSRF-Token; a 401 (the session ended)
   * reloads the page, which then shows the login. body: an object or text
   * (sent as JSON), or a file (a Blob, sent as its bytes). data: the JSON
   * answer, or a Blob when the answer is a file (a download). */
  async function api(method, path, body) {
    const options = { method, headers: {} };
    if (body instanceof Blob) {
      options.headers['Content-Type'] = 'application/octet-stream';
      options.body = body;
    } else if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    if (method !== 'GET' && path !== '/api/login') {
      const { csrf_token: token } = await sessionInfo();
      if (token) options.headers['X-CSRF-Token'] = token;
    }
    const response = await fetch(path, options);
    const type = response.headers.get('Content-Type') || '';
    let data = null;
    if (response.ok && !type.startsWith('application/json')) return { ok: true, status: response.status, data: await response.blob() };
    try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
    if (response.status === 401 && path !== '/api/login') location.reload();
    return { ok: response.ok, status: response.status, data };
  }

  /* The operator's name and a logout button in the header, on every page. */
  async function showOperator() {
    const { operator } = await sessionInfo();
    const tools = document.querySelector('header .tools');
    if (!operator || !tools || document.getElementById('logout')) return;
    const logout = el('button', { id: 'logout', 'data-t': 'logout' }, t('logout'));
    logout.onclick = async () => { await api('POST', '/api/logout', {}); location.reload(); };
    tools.append(el('span', { id: 'operator', class: 'who' }, t('operator') + ' ' + operator), logout);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'class') node.className = value;
      else if (key.startsWith('data-')) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) if (child !== null && child !== undefined)
      node.append(child instanceof Node ? child : String(child));
    return node;
  }
  function when(iso) { return iso ? iso.replace('T', ' ').replace(/\+08:00$|Z$/, '') : '-'; }

  define({
    lang_toggle: ['English', '中文'],
    programme: ['方案', 'Programme'],
    year: ['年度', 'Year'],
    reports: ['已存报告', 'Reports stored'],
    queued: ['待上报', 'Queued upstream'],
    link: ['上级连接', 'Link to parent'],
    role_county: ['县级节点', 'County node'],
    role_prefecture: ['州市级节点', 'Prefecture hub'],
    role_province: ['省级节点', 'Province core'],
    operator: ['操作员', 'Operator'],
    logout: ['退出登录', 'Log out'],
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', showOperator);
  else showOperator();

  return { define, t, translate, setLang, lang: () => lang, api, el, when, session: sessionInfo };
})();
