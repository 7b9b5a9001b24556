/* The province's page: the year at a glance from the engine's result
 * (GET /api/province/evaluation: the bytes of `province-core evaluate
 * --format json`), a drill-down to any prefecture or county (its versions,
 * inspections, flags and reasons), the exports as downloads, and a refresh
 * whenever the store's data generation moves (polled every few seconds). */
'use strict';

Console.define({
  p_title: ['全省年度概览', 'The year at a glance'],
  p_evaluated_at: ['评估时间', 'Evaluated at'],
  p_download: ['下载：', 'Download:'],
  p_export_html: ['打印版（HTML）', 'Printable (HTML)'],
  p_export_csv: ['CSV', 'CSV'],
  p_export_xlsx: ['Excel（XLSX）', 'Excel (XLSX)'],
  p_export_json: ['JSON', 'JSON'],
  p_province: ['全省', 'The province'],
  p_prefectures: ['各州市：完整性、及时性与推荐', 'Prefectures: completeness, timeliness, recommendations'],
  p_progress: ['目标进度', 'Progress against the targets'],
  p_units: ['各县评估结果', 'Every unit'],
  p_unit: ['单位详情', 'Unit'],
  p_close: ['关闭', 'Close'],
  p_live: ['自动刷新：新报告到达时更新（{t} 刷新）', 'Live: refreshed as reports arrive (last {t})'],
  p_offline: ['与节点失去联系，稍后重试', 'Lost contact with the node; retrying'],
  code: ['代码', 'Code'],
  name: ['名称', 'Name'],
  quota: ['名额', 'Quota'],
  expected: ['应报', 'Expected'],
  reported: ['已报', 'Reported'],
  completeness: ['完整率', 'Completeness'],
  on_time: ['按时', 'On time'],
  late: ['迟报', 'Late'],
  missing: ['未报', 'Missing'],
  timeliness: ['及时率', 'Timeliness'],
  qualified: ['合格', 'Qualified'],
  rec_source: ['推荐来源', 'Recommendation'],
  recommended: ['推荐（名额内，按名次）', 'Recommended (best first)'],
  src_confirmed: ['已确认', 'Confirmed'],
  src_provisional: ['暂定（未确认）', 'Provisional (not confirmed)'],
  src_automatic: ['自动排名（暂定）', 'Automatic ranking (provisional)'],
  rec_late: ['（推荐晚于截止日期）', ' (made after the deadline)'],
  demonstration: ['本年示范县', "This year's demonstration units"],
  national: ['国家级候选', 'National candidates'],
  of_quota: ['名额 {n}', 'quota {n}'],
  none: ['无', 'None'],
  target: ['目标', 'Target'],
  by: ['截止年度', 'Due by'],
  needed: ['需要', 'Needed'],
  achieved: ['已达成', 'Achieved'],
  done_percent: ['完成率', 'Done'],
  target_demonstration: ['示范县', 'Demonstration units'],
  target_national: ['国家级示范', 'National'],
  year_demo: ['示范', 'Demonstration'],
  year_national: ['国家级', 'National'],
  year_demo_total: ['累计示范', 'Demonstration, cumulative'],
  year_national_total: ['累计国家级', 'National, cumulative'],
  prefecture: ['州市', 'Prefecture'],
  status: ['上报情况', 'Reported'],
  verdict: ['评定', 'Verdict'],
  items_passed: ['通过项', 'Items passed'],
  failed: ['未通过项', 'Failed items'],
  flags: ['标记', 'Flags'],
  rank: ['排名', 'Rank'],
  rec: ['推荐', 'Recommended'],
  demo: ['示范', 'Demonstration'],
  nat: ['国家级候选', 'National'],
  yes: ['是', 'Yes'],
  no: ['否', 'No'],
  pass: ['合格', 'Pass'],
  fail: ['不合格', 'Fail'],
  flag_late: ['迟报', 'late'],
  flag_discrepancy: ['核查不符（取消本年度推荐资格）', 'discrepancy (disqualified this year)'],
  flag_returned: ['已退回修改', 'returned for correction'],
  flag_missing_values: ['有缺项', 'criteria missing'],
  flag_inspected: ['经核查', 'inspected'],
  flag_corrected: ['已更正', 'corrected'],
  flag_not_yet_due: ['未到截止日期', 'not yet due'],
  flag_designated_earlier: ['往年已认定', 'designated earlier'],
  flag_claimed_time_implausible: ['申报时间存疑', 'claimed time implausible'],
  reasons: ['不合格项目及原因', 'Why it fails'],
  no_reasons: ['无', 'None'],
  versions: ['报告版本', 'Report versions'],
  inspections: ['核查记录', 'Inspections'],
  report_id: ['报告编号', 'Report id'],
  unit_code: ['单位', 'Unit'],
  version: ['版本', 'Version'],
  submitted_at: ['提交时间', 'Submitted'],
  received_at: ['州市接收时间', 'Received by the prefecture'],
  inspection_received_at: ['省级接收时间', 'Received here'],
  criteria: ['各项指标', 'Criteria'],
  inspected_by: ['核查单位', 'Inspected by'],
  inspected_at: ['核查时间', 'Inspected'],
  values: ['核查值', 'Values'],
  nothing: ['无', 'None'],
  counted: ['计入版本', 'Version counted'],
  return_reason: ['退回原因', 'Returned because'],
  mean_margin: ['平均超出（百分点）', 'Mean margin (points)'],
  made_at: ['推荐时间', 'Made at'],
  revision: ['修订号', 'Revision'],
  ignored: ['忽略条目', 'Ignored entries'],
  automatic: ['自动排名名单', 'Automatic list'],
  ranking: ['合格单位排名', 'Ranking of qualified units'],
  criterion: ['指标', 'Criterion'],
  value: ['数值', 'Value'],
  source: ['来源', 'Source'],
  source_self: ['自报', 'self'],
  source_prefecture: ['州市核查', 'prefecture'],
  source_province: ['省级核查', 'province'],
  self_value: ['自报值', 'Self-reported'],
});

const POLL_MS = 3000;
const state = { year: 0, evaluation: null, seen: null, unit: null, names: {} };
const $ = (id) => document.getElementById(id);
const el = Console.el, t = Console.t;

function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, (m, key) => values[key]);
}
function yesNo(flag) { return t(flag ? 'yes' : 'no'); }
function percent(value) { return value === null || value === undefined ? '-' : Number(value).toFixed(2) + '%'; }
/* A figure of the result: the element carries the JSON path it shows, so
 * the browser test compares it with `evaluate --format json`. */
function fig(path, text) { return el('span', { 'data-path': path }, text); }
function named(code) { return (state.names[code] || '') + '（' + code + '）'; }
function namedList(codes) { return codes.length ? codes.map(named).join('、') : t('none'); }
function flagText(flags) { return flags.map((f) => t('flag_' + f)).join('；'); }
function row(cells, head) { return el('tr', {}, ...cells.map((c) => el(head ? 'th' : 'td', {}, c))); }
function table(id, headKeys, rows) {
  $(id).replaceChildren(row(headKeys.map(t), true), ...rows);
}

function sourceText(p) { return t('src_' + p.source) + (p.late ? t('rec_late') : ''); }

function renderProvince(e) {
  const p = e.province;
  const pp = 'province.';
  const rows = [
    [t('completeness'), el('span', {}, fig(pp + 'completeness.reported', p.completeness.reported), ' / ',
      fig(pp + 'completeness.expected', p.completeness.expected), '（', fig(pp + 'completeness.percent', percent(p.completeness.percent)), '）')],
    [t('timeliness'), el('span', {}, t('on_time'), ' ', fig(pp + 'timeliness.on_time', p.timeliness.on_time), '，', t('late'), ' ',
      fig(pp + 'timeliness.late', p.timeliness.late), '，', t('missing'), ' ', fig(pp + 'timeliness.missing', p.timeliness.missing),
      '（', fig(pp + 'timeliness.percent', percent(p.timeliness.percent)), '）')],
    [t('qualified'), fig(pp + 'qualified', p.qualified)],
    [t('demonstration'), el('span', {}, fig(pp + 'demonstration', namedList(p.demonstration)), ' · ',
      fmt(t('of_quota'), { n: p.quota_total }))],
    [t('national'), el('span', {}, fig(pp + 'national_candidates', namedList(p.national_candidates)), ' · ',
      fmt(t('of_quota'), { n: p.national_quota }))],
  ];
  $('province').replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
}

function renderPrefectures(e) {
  table('prefectures', ['code', 'name', 'quota', 'expected', 'reported', 'completeness', 'on_time', 'late',
    'missing', 'timeliness', 'qualified', 'rec_source', 'recommended'], e.prefectures.map((p, i) => {
    const at = 'prefectures.' + i + '.';
    const tr = row([p.code, el('a', { href: '#' + p.code }, p.name), fig(at + 'quota', p.quota),
      fig(at + 'completeness.expected', p.completeness.expected), fig(at + 'completeness.reported', p.completeness.reported),
      fig(at + 'completeness.percent', percent(p.completeness.percent)), fig(at + 'timeliness.on_time', p.timeliness.on_time),
      fig(at + 'timeliness.late', p.timeliness.late), fig(at + 'timeliness.missing', p.timeliness.missing),
      fig(at + 'timeliness.percent', percent(p.timeliness.percent)), fig(at + 'qualified', p.qualified),
      sourceText(p), fig(at + 'recommended', namedList(p.recommended))]);
    tr.dataset.code = p.code;
    return tr;
  }));
}

function renderProgress(e) {
  const progress = e.province.progress;
  table('targets', ['target', 'by', 'needed', 'achieved', 'done_percent'], progress.targets.map((g, i) => {
    const at = 'province.progress.targets.' + i + '.';
    const bar = el('progress', { max: 100, value: Math.min(100, g.percent) });
    return row([g.title_zh && Console.lang() !== 'en' ? g.title_zh : t('target_' + g.of) + ' ' + g.value + (g.kind === 'share' ? '%' : ''),
      g.by, fig(at + 'needed', g.needed), fig(at + 'achieved', g.achieved), el('span', {}, bar, ' ', fig(at + 'percent', percent(g.percent)))]);
  }));
  table('years', ['year', 'year_demo', 'year_national', 'year_demo_total', 'year_national_total'], progress.years.map((y, i) => {
    const at = 'province.progress.years.' + i + '.';
    return row([y.year, fig(at + 'demonstration', y.demonstration), fig(at + 'national', y.national),
      fig(at + 'demonstration_total', y.demonstration_total), fig(at + 'national_total', y.national_total)]);
  }));
}

function verdictCell(u) {
  if (u.status === 'missing') return el('span', { class: 'verdict none' }, t('missing'));
  return el('span', { class: 'verdict ' + (u.qualified ? 'pass' : 'fail') }, t(u.qualified ? 'pass' : 'fail'));
}

function renderUnits(e) {
  table('units', ['code', 'name', 'prefecture', 'status', 'verdict', 'items_passed', 'failed', 'flags', 'rank',
    'rec', 'demo', 'nat'], e.units.map((u, i) => {
    const at = 'units.' + i + '.';
    const tr = row([u.code, el('a', { href: '#' + u.code }, u.name), state.names[u.prefecture] || u.prefecture,
      fig(at + 'status', t(u.status)), verdictCell(u), fig(at + 'items_passed', u.items_passed),
      u.status === 'missing' ? '-' : fig(at + 'failed', u.failed.join(' ')), fig(at + 'flags', flagText(u.flags)), u.rank === null ? '-' : u.rank,
      fig(at + 'recommended', yesNo(u.recommended)), fig(at + 'demonstration', yesNo(u.demonstration)),
      fig(at + 'national_candidate', yesNo(u.national_candidate))]);
    tr.dataset.code = u.code;
    return tr;
  }));
}

function render() {
  const e = state.evaluation;
  state.names = {};
  for (const u of e.units) state.names[u.code] = u.name;
  for (const p of e.prefectures) state.names[p.code] = p.name;
  $('evaluated-at').textContent = Console.when(e.evaluated_at);
  renderProvince(e);
  renderPrefectures(e);
  renderProgress(e);
  renderUnits(e);
  for (const a of document.querySelectorAll('a[data-format]')) {
    const lang = a.dataset.format === 'csv' && Console.lang() === 'en' ? '&lang=en' : '';
    a.href = '/api/province/export?year=' + state.year + '&format=' + a.dataset.format + lang;
  }
}

/* ---- drill-down ---- */

function kv(pairs) {
  return el('table', {}, ...pairs.map(([k, v]) => el('tr', {}, el('th', {}, t(k)), el('td', {}, v))));
}

function versionsTable(versions) {
  if (!versions.length) return el('p', { class: 'note' }, t('nothing'));
  return el('table', { id: 'unit-versions' }, row(['report_id', 'unit_code', 'version', 'submitted_at', 'received_at'].map(t), true),
    ...versions.map((v) => row([v.report_id, named(v.unit), v.version, Console.when(v.submitted_at), Console.when(v.received_at)])));
}

function valueText(v) {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'boolean') return yesNo(v);
  if (typeof v === 'object') return v.num + '/' + v.den;
  return String(v);
}

function inspectionsTable(inspections) {
  if (!inspections.length) return el('p', { class: 'note' }, t('nothing'));
  return el('table', { id: 'unit-inspections' }, row(['report_id', 'unit_code', 'inspected_by', 'inspected_at', 'inspection_received_at', 'values'].map(t), true),
    ...inspections.map((i) => row([i.report_id, named(i.unit), named(i.origin), Console.when(i.submitted_at), Console.when(i.received_at),
      Object.entries(i.values).map(([k, v]) => k + ' = ' + valueText(v)).join('；')])));
}

function reasonsList(reasons) {
  const lines = [];
  for (const [code, list] of Object.entries(reasons)) for (const line of list) lines.push(el('li', {}, named(code) + ' ' + line));
  return lines.length ? el('ul', { id: 'unit-reasons' }, ...lines) : el('p', { class: 'note' }, t('no_reasons'));
}

function criteriaTable(u) {
  return el('table', {}, row(['criterion', 'value', 'verdict', 'source', 'self_value'].map(t), true),
    ...u.criteria.map((c) => row([c.id, valueText(c.value) + (c.percent !== undefined && c.percent !== null ? '（' + percent(c.percent) + '）' : ''),
      el('span', { class: 'verdict ' + (c.passed ? 'pass' : 'fail') }, t(c.passed ? 'pass' : 'fail')),
      t('source_' + c.source), c.self_value !== undefined ? valueText(c.self_value) : ''])));
}

function unitFacts(code) {
  const e = state.evaluation;
  const p = e.prefectures.find((x) => x.code === code);
  if (p) {
    return kv([['quota', p.quota], ['rec_source', sourceText(p)], ['recommended', namedList(p.recommended)],
      ['made_at', Console.when(p.made_at)], ['revision', p.revision === null ? '-' : p.revision], ['ignored', p.ignored],
      ['automatic', namedList(p.automatic)], ['ranking', namedList(p.ranking)],
      ['completeness', percent(p.completeness.percent)], ['timeliness', percent(p.timeliness.percent)]]);
  }
  const u = e.units.find((x) => x.code === code);
  if (!u) return el('p', { class: 'note' }, t('nothing'));
  return kv([['status', t(u.status)], ['verdict', verdictCell(u)],
    ['items_passed', u.items_passed + ' / ' + u.items_total], ['failed', u.failed.join(' ') || t('none')],
    ['flags', el('span', { id: 'unit-flags' }, flagText(u.flags) || t('none'))], ['return_reason', u.return_reason || '-'],
    ['rank', u.rank === null ? '-' : u.rank], ['mean_margin', u.mean_margin === null ? '-' : u.mean_margin],
    ['counted', u.report_id ? u.report_id + '（v' + u.version + '，' + u.versions + '）' : '-'],
    ['rec', yesNo(u.recommended)], ['demo', yesNo(u.demonstration)], ['nat', yesNo(u.national_candidate)]]);
}

async function showUnit(code) {
  state.unit = code;
  const { ok, data } = await Console.api('GET', '/api/province/unit?year=' + state.year + '&code=' + encodeURIComponent(code));
  if (!ok) { $('page-error').textContent = data.error; return; }
  $('unit-part').hidden = false;
  $('unit-title').textContent = named(data.code);
  $('unit').replaceChildren(unitFacts(data.code),
    el('h3', {}, t('reasons')), reasonsList(data.reasons),
    el('h3', {}, t('versions')), versionsTable(data.versions),
    el('h3', {}, t('inspections')), inspectionsTable(data.inspections));
  const u = state.evaluation.units.find((x) => x.code === data.code);
  if (u && u.status !== 'missing') $('unit').append(el('h3', {}, t('criteria')), criteriaTable(u));
  $('unit').dataset.loaded = data.code;
}

/* ---- loading and the live refresh ---- */

async function load() {
  const { ok, data } = await Console.api('GET', '/api/province/evaluation?year=' + state.year);
  if (!ok) { $('page-error').textContent = data.error; return false; }
  state.evaluation = data;
  $('page-error').textContent = '';
  render();
  if (state.unit) await showUnit(state.unit);
  document.body.dataset.generation = state.seen;
  return true;
}

/* Polling, not server-sent events: the daemon's one loop answers each
 * request and moves on, and a counter read every few seconds costs two
 * LMDB reads; the evaluation is re-read only when the counter moved. */
async function poll() {
  try {
    const { ok, data } = await Console.api('GET', '/api/province/changes');
    if (!ok) throw new Error(data.error);
    const seen = data.generation + '.' + data.revision;
    if (seen !== state.seen) {
      state.seen = seen;
      await load();
    }
    $('live').textContent = fmt(t('p_live'), { t: new Date().toLocaleTimeString() });
  } catch (e) {
    $('live').textContent = t('p_offline');
  }
}

async function start() {
  Console.translate();
  const { ok, data } = await Console.api('GET', '/api/node');
  if (!ok) { $('page-error').textContent = data.error; return; }
  $('who').textContent = t('role_' + data.role) + ' ' + data.code + ' ' + (data.name || '');
  state.year = data.year;
  $('year').replaceChildren(...data.years.map((y) => el('option', { value: y, selected: y === data.year }, y)));
  await poll();
  setInterval(poll, POLL_MS);
}

$('year').onchange = () => { state.year = Number($('year').value); load(); };
$('lang').onclick = () => {
  Console.setLang(Console.lang() === 'en' ? 'zh' : 'en');
  Console.translate();
  render();
  if (state.unit) showUnit(state.unit);
};
$('unit-close').onclick = () => { state.unit = null; $('unit-part').hidden = true; };
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href^="#"]');
  if (!link) return;
  event.preventDefault();
  showUnit(link.getAttribute('href').slice(1)).then(() => $('unit-part').scrollIntoView());
});
start();
