/* The prefecture hub's page: its counties for a year as the engine evaluates
 * them (GET /api/hub/overview: `report --json` with the verdict lines and
 * `recommend --json`), the recommendation confirmed (POST /api/hub/confirm),
 * inspections (POST /api/hub/inspect) and returns (POST /api/hub/return).
 * Every figure and verdict is the node's; the page only lays them out. */
'use strict';

Console.define({
  hub_title: ['州市审核与推荐', 'Prefecture review and recommendation'],
  reload: ['刷新', 'Refresh'],
  counties: ['各县报送情况', 'Reporting by county'],
  matrix: ['考核项目达标矩阵', 'Items passed, county by county'],
  matrix_note: ['✓ 合格 · ✗ 不合格（悬停或点击查看原因）· △ 合格但核查与自报不符 · 空白：未报',
    '✓ pass · ✗ fail (hover or click for the reason) · △ passes but the inspection contradicts the self-report · blank: not reported'],
  ranking: ['排名与推荐', 'Ranking and recommendation'],
  override: ['已过推荐截止时间，仍要确认（将记入日志）', 'Past the recommendation deadline: confirm anyway (logged)'],
  confirm: ['确认推荐', 'Confirm the recommendation'],
  aggregates: ['分项汇总（比例为 Σ分子/Σ分母）', 'Aggregates per criterion (ratios are Σnum/Σden)'],
  inspect: ['录入核查值', 'Record inspection values'],
  inspect_note: ['只填写核查过的指标；核查值替代自报值参与评估，与自报不符的取消本年度推荐资格。',
    'Fill in only the criteria you inspected; inspected values replace the self-reported ones, and a contradiction disqualifies the unit for the year.'],
  inspect_save: ['保存核查值', 'Save the inspection'],
  return: ['退回修改', 'Return for correction'],
  return_send: ['退回', 'Return'],
  unit: ['单位', 'Unit'],
  code: ['代码', 'Code'],
  name: ['名称', 'Name'],
  status: ['报送', 'Reported'],
  status_on_time: ['按时', 'On time'],
  status_late: ['迟报', 'Late'],
  status_missing: ['未报', 'Missing'],
  status_not_yet_due: ['未报（未到截止）', 'Not yet (not due)'],
  version: ['版本', 'Version'],
  submitted_at: ['提交时间', 'Submitted'],
  received_at: ['州市收到', 'Received'],
  items_passed: ['合格项目', 'Items passed'],
  qualified: ['合格', 'Qualified'],
  rank: ['名次', 'Place'],
  flags: ['标记', 'Flags'],
  recommended: ['推荐', 'Recommended'],
  mean_margin: ['比例指标平均超出（百分点）', 'Mean margin over ratio criteria (points)'],
  yes: ['是', 'Yes'],
  no: ['否', 'No'],
  flag_late: ['迟报', 'late'],
  flag_discrepancy: ['核查与自报不符', 'discrepancy'],
  flag_returned: ['已退回修改', 'returned'],
  flag_missing_values: ['有未填指标', 'missing values'],
  flag_inspected: ['已核查', 'inspected'],
  flag_corrected: ['已更正', 'corrected'],
  flag_not_yet_due: ['未到截止', 'not yet due'],
  flag_designated: ['往年已命名', 'designated earlier'],
  flag_claimed_time_implausible: ['申报时间存疑', 'claimed time implausible'],
  summary: ['应报 {e} · 已报 {r}（完整率 {c}%）· 按时 {o}（及时率 {t}%）· 迟报 {l} · 未报 {m} · 合格 {q}',
    'Expected {e} · reported {r} ({c}%) · on time {o} ({t}%) · late {l} · missing {m} · qualified {q}'],
  deadline_self: ['自评截止：', 'Self-assessment due: '],
  deadline_rec: ['推荐截止：', 'Recommendation due: '],
  passed_deadline: ['（已过）', ' (passed)'],
  holder: ['{code} {name} · 名额 {quota}', '{code} {name} · quota {quota}'],
  list_confirmed: ['推荐名单（已确认）：', 'Recommendation (confirmed): '],
  list_provisional: ['推荐名单（暂定，尚未确认）：', 'Recommendation (provisional, not confirmed): '],
  none: ['无', 'none'],
  not_ranked: ['不合格、被退回、核查不符或未报的单位不参与排名。', 'Units that fail, were returned, are contradicted by an inspection or did not report are not ranked.'],
  confirmed_ok: ['已确认并上报省级。', 'Confirmed and sent to the province.'],
  criterion: ['指标', 'Criterion'],
  rule: ['要求', 'Rule'],
  units_with_value: ['填报单位', 'Units'],
  total: ['合计', 'Total'],
  self_value: ['自报值', 'Self-reported'],
  inspected_value: ['核查值', 'Inspected'],
  numerator: ['分子', 'Numerator'],
  denominator: ['分母', 'Denominator'],
  inspect_ok: ['已保存核查 {id}（指标 {c}）。', 'Inspection {id} saved (criteria {c}).'],
  inspect_empty: ['请至少填写一项核查值。', 'Fill in at least one inspected value.'],
  return_ok: ['已退回 {u}，县级将收到原因。', 'Returned {u}; the county will get the reason.'],
  reason_placeholder: ['退回原因，例如：5.4c 健康家庭户数未填，请补报', 'Why, e.g. 5.4c is blank, please fill it in'],
  item: ['项目', 'Item'],
});

const state = { year: 0, data: null };
const $ = (id) => document.getElementById(id);
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, key) => (key in values ? values[key] : m));

function units() { return state.data.evaluation.units; }
function criteriaOf(standard) { return standard.flatMap((s) => s.items.flatMap((i) => i.criteria)); }
function title(c) { return Console.lang() === 'en' && c.title_en ? c.title_en : c.title_zh; }

function ruleText(c) {
  if (c.kind === 'bool') return Console.t('yes');
  if (c.kind === 'count') return '≥ ' + c.threshold;
  return (c.op === '==' ? '= ' : '≥ ') + c.threshold + '%';
}

function valueText(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return Console.t(value ? 'yes' : 'no');
  if (typeof value === 'number') return String(value);
  return `${value.num}/${value.den}` + (value.den ? ` (${(100 * value.num / value.den).toFixed(2)}%)` : '');
}

function statusText(unit) {
  if (unit.status === 'missing' && unit.flags.includes('not_yet_due')) return Console.t('status_not_yet_due');
  return Console.t('status_' + unit.status);
}

function showSummary() {
  const e = state.data.evaluation;
  const sum = { e: 0, r: 0, o: 0, l: 0, m: 0, q: 0 };
  for (const p of e.prefectures) {
    sum.e += p.completeness.expected; sum.r += p.completeness.reported; sum.o += p.timeliness.on_time;
    sum.l += p.timeliness.late; sum.m += p.timeliness.missing; sum.q += p.qualified;
  }
  const pct = (part) => (sum.e ? (100 * part / sum.e).toFixed(0) : '0');
  $('summary').textContent = fill(Console.t('summary'), { ...sum, c: pct(sum.r), t: pct(sum.o) });
  const passed = (deadline) => (deadline && Date.parse(e.evaluated_at) > Date.parse(deadline) ? Console.t('passed_deadline') : '');
  $('deadlines').textContent = Console.t('deadline_self') + Console.when(e.deadlines.self_assessment) +
    passed(e.deadlines.self_assessment) + ' · ' + Console.t('deadline_rec') +
    Console.when(e.deadlines.recommendation) + passed(e.deadlines.recommendation);
}

function showCounties() {
  const head = Console.el('tr', {}, ...['code', 'name', 'status', 'version', 'submitted_at', 'received_at',
    'items_passed', 'qualified', 'rank', 'flags'].map((key) => Console.el('th', {}, Console.t(key))));
  const rows = units().map((u) => Console.el('tr', { id: 'county-' + u.code, 'data-status': u.status },
    Console.el('td', {}, u.code), Console.el('td', {}, u.name),
    Console.el('td', { class: 'status-' + u.status }, statusText(u)),
    Console.el('td', {}, u.version || ''), Console.el('td', {}, Console.when(u.submitted_at)),
    Console.el('td', {}, Console.when(u.received_at)),
    Console.el('td', {}, u.status === 'missing' ? '' : `${u.items_passed}/${u.items_total}`),
    Console.el('td', {}, u.status === 'missing' ? '' : Console.t(u.qualified ? 'yes' : 'no')),
    Console.el('td', {}, u.rank || ''),
    Console.el('td', {}, u.flags.map((f) => Console.t('flag_' + f)).join('、'))));
  $('counties').replaceChildren(head, ...rows);
}

/* The verdict lines of a unit's criteria in one item. */
function itemReasons(unit, item) {
  return unit.criteria.filter((c) => c.item === item && unit.reasons[c.id]).map((c) => unit.reasons[c.id]);
}

function showDetail(unit, item, reasons) {
  $('cell-detail').replaceChildren(Console.el('strong', {}, `${unit.code} ${unit.name} · ${Console.t('item')} ${item}`),
    ...reasons.map((line) => Console.el('div', {}, line)));
}

function matrixCell(unit, item) {
  if (unit.status === 'missing') return Console.el('td', { class: 'cell none', id: `cell-${unit.code}-${item}` });
  const failed = unit.failed.includes(item);
  const reasons = itemReasons(unit, item);
  const cell = Console.el('td', { class: 'cell ' + (failed ? 'fail' : 'pass'), id: `cell-${unit.code}-${item}`,
    title: reasons.join('\n') }, failed ? '✗' : reasons.length ? '△' : '✓');
  if (reasons.length) cell.addEventListener('click', () => showDetail(unit, item, reasons));
  return cell;
}

function showMatrix() {
  const items = state.data.evaluation.items;
  const titles = {};
  for (const section of state.data.standard)
    for (const item of section.items) titles[item.id] = item.criteria.map((c) => `${c.id} ${title(c)}`).join('\n');
  const head = Console.el('tr', {}, Console.el('th', {}, Console.t('unit')),
    ...items.map((id) => Console.el('th', { title: titles[id] || '' }, id)));
  const rows = units().map((u) => Console.el('tr', { 'data-unit': u.code },
    Console.el('th', {}, `${u.code} ${u.name}`), ...items.map((id) => matrixCell(u, id))));
  $('matrix').replaceChildren(head, ...rows);
  $('cell-detail').replaceChildren();
}

function holderTable(p, byCode) {
  const head = Console.el('tr', {}, ...['rank', 'unit', 'items_passed', 'mean_margin', 'submitted_at', 'recommended']
    .map((key) => Console.el('th', {}, Console.t(key))));
  const rows = p.ranking.map((code, i) => {
    const u = byCode[code];
    return Console.el('tr', { 'data-rank': i + 1, 'data-unit': code }, Console.el('td', {}, i + 1),
      Console.el('td', {}, `${code} ${u.name}`), Console.el('td', {}, `${u.items_passed}/${u.items_total}`),
      Console.el('td', {}, u.mean_margin.toFixed(2)), Console.el('td', {}, Console.when(u.submitted_at)),
      Console.el('td', {}, p.automatic.includes(code) ? Console.t('yes') : ''));
  });
  return Console.el('table', { class: 'ranking' }, head, ...rows);
}

function showRanking() {
  const byCode = Object.fromEntries(units().map((u) => [u.code, u]));
  const lists = Object.fromEntries(state.data.recommendation.lists.map((l) => [l.holder, l]));
  const blocks = state.data.evaluation.prefectures.map((p) => {
    const list = lists[p.code] || { confirmed: false, units: [] };
    const names = list.units.map((code) => `${code} ${byCode[code] ? byCode[code].name : ''}`).join('、');
    return Console.el('div', { class: 'holder', 'data-holder': p.code },
      Console.el('h3', {}, fill(Console.t('holder'), { code: p.code, name: p.name, quota: p.quota })),
      holderTable(p, byCode),
      Console.el('p', { class: 'list ' + (list.confirmed ? 'confirmed' : 'provisional'), id: 'list-' + p.code },
        Console.t(list.confirmed ? 'list_confirmed' : 'list_provisional') + (names || Console.t('none'))));
  });
  $('ranking').replaceChildren(...blocks, Console.el('p', { class: 'note' }, Console.t('not_ranked')));
}

function aggregateTotal(a) {
  if (a.kind === 'ratio') return `${a.num}/${a.den}` + (a.percent === null ? '' : ` = ${a.percent.toFixed(2)}%`);
  if (a.kind === 'count') return String(a.sum);
  return `${a.true}/${a.units} = ${a.percent.toFixed(2)}%`;
}

function showAggregates() {
  const byId = Object.fromEntries(criteriaOf(state.data.standard).map((c) => [c.id, c]));
  const blocks = state.data.evaluation.prefectures.map((p) => {
    const head = Console.el('tr', {}, ...['criterion', 'name', 'rule', 'units_with_value', 'total']
      .map((key) => Console.el('th', {}, Console.t(key))));
    const rows = p.aggregates.map((a) => Console.el('tr', { id: `aggregate-${p.code}-${a.id}` },
      Console.el('td', {}, a.id), Console.el('td', {}, byId[a.id] ? title(byId[a.id]) : ''),
      Console.el('td', {}, byId[a.id] ? ruleText(byId[a.id]) : ''), Console.el('td', {}, a.units),
      Console.el('td', {}, aggregateTotal(a))));
    return Console.el('div', {}, state.data.evaluation.prefectures.length > 1
      ? Console.el('h3', {}, `${p.code} ${p.name}`) : null, Console.el('table', {}, head, ...rows));
  });
  $('aggregates').replaceChildren(...blocks);
}

function unitOptions(select, list) {
  const kept = select.value;
  select.replaceChildren(...list.map((u) => Console.el('option', { value: u.code, selected: u.code === kept },
    `${u.code} ${u.name} · ${statusText(u)}`)));
}

function inspectField(c) {
  const box = (part) => Console.el('input', { type: 'text', inputMode: 'numeric', size: 8, 'data-criterion': c.id,
    'data-part': part, placeholder: part === 'num' ? Console.t('numerator') : part === 'den' ? Console.t('denominator') : '' });
  if (c.kind === 'bool') {
    return Console.el('select', { 'data-criterion': c.id, 'data-part': 'flag' }, Console.el('option', { value: '' }, '—'),
      Console.el('option', { value: 'true' }, Console.t('yes')), Console.el('option', { value: 'false' }, Console.t('no')));
  }
  if (c.kind === 'count') return box('count');
  return Console.el('span', {}, box('num'), ' / ', box('den'));
}

/* The inspection form: every criterion, the unit's counted value beside it. */
function showInspectForm() {
  const unit = units().find((u) => u.code === $('inspect-unit').value);
  const counted = unit ? Object.fromEntries(unit.criteria.map((c) => [c.id, c])) : {};
  const head = Console.el('tr', {}, ...['criterion', 'name', 'rule', 'self_value', 'inspected_value']
    .map((key) => Console.el('th', {}, Console.t(key))));
  const rows = criteriaOf(state.data.standard).map((c) => {
    const got = counted[c.id];
    const self = got ? (got.source === 'self' ? got.value : got.self_value) : null;
    return Console.el('tr', { id: 'inspect-row-' + c.id }, Console.el('td', {}, c.id), Console.el('td', {}, title(c)),
      Console.el('td', {}, ruleText(c)), Console.el('td', {}, valueText(self)), Console.el('td', {}, inspectField(c)));
  });
  $('inspect-form').replaceChildren(Console.el('table', {}, head, ...rows));
}

/* A typed number goes as a number when it is a whole one; anything else
 * as the text, so that the node names what is wrong with it. */
function typedNumber(text) {
  const trimmed = text.trim();
  return /^[0-9]{1,15}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function collectInspection() {
  const values = {};
  for (const field of $('inspect-form').querySelectorAll('[data-criterion]')) {
    const id = field.dataset.criterion, part = field.dataset.part, text = field.value;
    if (part === 'flag' && text !== '') values[id] = text === 'true';
    if (part === 'count' && text.trim() !== '') values[id] = typedNumber(text);
    if ((part === 'num' || part === 'den') && text.trim() !== '') {
      values[id] = values[id] || {};
      values[id][part] = typedNumber(text);
    }
  }
  return { unit: $('inspect-unit').value, year: state.year, values };
}

function say(id, text, bad) {
  $(id).className = bad ? 'message' : 'note';
  $(id).textContent = text;
}

async function inspect() {
  const body = collectInspection();
  if (!Object.keys(body.values).length) { say('inspect-message', Console.t('inspect_empty'), true); return; }
  const { ok, data } = await Console.api('POST', '/api/hub/inspect', body);
  if (!ok) { say('inspect-message', data.error, true); return; }
  say('inspect-message', fill(Console.t('inspect_ok'), { id: data.report_id, c: data.criteria }));
  await overview();
}

async function confirmRecommendation() {
  const { ok, data } = await Console.api('POST', '/api/hub/confirm', { year: state.year, override: $('override').checked });
  if (!ok) { say('confirm-message', data.error, true); return; }
  say('confirm-message', Console.t('confirmed_ok'));
  await overview();
}

async function sendReturn() {
  const body = { unit: $('return-unit').value, year: state.year, reason: $('return-reason').value };
  const { ok, data } = await Console.api('POST', '/api/hub/return', body);
  if (!ok) { say('return-message', data.error, true); return; }
  say('return-message', fill(Console.t('return_ok'), { u: data.unit }));
  $('return-reason').value = '';
  await overview();
}

async function overview() {
  const { ok, data } = await Console.api('GET', '/api/hub/overview?year=' + state.year);
  if (!ok) { $('page-error').textContent = data.error; return; }
  $('page-error').textContent = '';
  state.data = data;
  showSummary();
  showCounties();
  showMatrix();
  showRanking();
  showAggregates();
  unitOptions($('inspect-unit'), units());
  unitOptions($('return-unit'), units().filter((u) => u.status !== 'missing'));
  showInspectForm();
}

async function load() {
  Console.translate();
  $('return-reason').placeholder = Console.t('reason_placeholder');
  const params = new URLSearchParams(location.search);
  const node = await Console.api('GET', '/api/node' + (params.get('year') ? '?year=' + params.get('year') : ''));
  if (!node.ok) { $('page-error').textContent = node.data.error; return; }
  state.year = state.year || node.data.year;
  $('who').textContent = `${node.data.name || ''} ${node.data.code} · ${node.data.programme.title}`;
  $('year').replaceChildren(...node.data.years.map((y) => Console.el('option', { value: y, selected: y === state.year }, y)));
  await overview();
}

$('reload').onclick = overview;
$('confirm').onclick = confirmRecommendation;
$('inspect-save').onclick = inspect;
$('return-send').onclick = sendReturn;
$('inspect-unit').onchange = showInspectForm;
$('year').onchange = () => { state.year = Number($('year').value); overview(); };
$('lang').onclick = () => { Console.setLang(Console.lang() === 'en' ? 'zh' : 'en'); load(); };
load();
