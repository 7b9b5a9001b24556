/* The county's self-assessment page: the form of the programme in force,
 * checked live by the rule of `submit --check` (POST /api/county/check),
 * drafts kept in the node's store, submit, the versions and the published
 * result; a filled CSV or XLSX imported into the form, the form downloaded
 * as the filled template. Every request goes through Console.api. */
'use strict';

Console.define({
  title: ['示范县自评', 'County self-assessment'],
  overall: ['总体', 'Overall'],
  save: ['保存草稿', 'Save draft'],
  submit: ['提交', 'Submit'],
  history: ['已提交版本', 'Submitted versions'],
  result: ['省级评估结果', "The province's evaluation"],
  pass: ['合格', 'Pass'],
  fail: ['不合格', 'Fail'],
  blank: ['未填', 'Blank'],
  yes: ['是', 'Yes'],
  no: ['否', 'No'],
  numerator: ['分子', 'Numerator'],
  denominator: ['分母', 'Denominator'],
  comment: ['说明', 'Comment'],
  needs_yes: ['要求：是', 'Needs: yes'],
  needs_at_least: ['要求：不少于 ', 'Needs at least '],
  needs_percent: ['要求：', 'Needs '],
  items_passed: ['合格项目', 'Items passed'],
  missing: ['未填指标', 'Criteria not given'],
  blank_note: ['未填指标（按不合格计，提交时须确认留空）：', 'Blank criteria (they count as failed; submitting needs your confirmation): '],
  import: ['导入 Excel/CSV', 'Import Excel/CSV'],
  download_xlsx: ['下载 XLSX', 'Download XLSX'],
  download_csv: ['下载 CSV', 'Download CSV'],
  imported: ['已导入 {f}：请核对后保存或提交（尚未保存）', 'Imported {f}: check, then save or submit (not saved yet)'],
  form_file: ['自评表', 'form'],
  draft_none: ['尚无草稿', 'No draft yet'],
  draft_saved: ['草稿已保存于 ', 'Draft saved at '],
  draft_submitted: ['（已作为第 {v} 版提交）', ' (submitted as version {v})'],
  unsaved: ['有未保存的修改', 'Unsaved changes'],
  deadline: ['自评截止：', 'Self-assessment due: '],
  submitted: ['已提交第 {v} 版：', 'Submitted version {v}: '],
  confirm_missing: ['有 {n} 项指标未填：{list}。留空按不合格计。确认留空并提交吗？', '{n} criteria are blank: {list}. They count as failed. Leave them blank and submit?'],
  version: ['版本', 'Version'],
  report_id: ['报告编号', 'Report id'],
  submitted_at: ['提交时间', 'Submitted'],
  state: ['状态', 'State'],
  reason: ['原因', 'Reason'],
  state_queued: ['排队待发（尚未送达州市）', 'Queued (not yet at the prefecture)'],
  state_delivered: ['已送达州市', 'At the prefecture'],
  state_returned: ['州市退回修改', 'Returned for correction'],
  state_refused: ['被拒收', 'Refused'],
  state_stored: ['已存储', 'Stored'],
  no_versions: ['本年度尚无提交', 'Nothing submitted for this year'],
  not_published: ['省级尚未公布本年度评估结果', 'The province has not published this year yet'],
  qualified: ['合格', 'Qualified'],
  not_qualified: ['不合格', 'Not qualified'],
  recommended: ['州市推荐', 'Recommended'],
  demonstration: ['示范县', 'Demonstration unit'],
  national: ['国家级候选', 'National candidate'],
});

const state = { form: null, year: 0, timer: null, dirty: false, lastCheck: null };
const $ = (id) => document.getElementById(id);

function needText(c) {
  if (c.kind === 'bool') return Console.t('needs_yes');
  if (c.kind === 'count') return Console.t('needs_at_least') + c.threshold;
  return Console.t('needs_percent') + (c.op === '==' ? '= ' : '≥ ') + c.threshold + '%';
}

function verdict(node, passed, present) {
  node.className = 'verdict ' + (present === false ? 'none' : passed ? 'pass' : 'fail');
  node.textContent = Console.t(present === false ? 'blank' : passed ? 'pass' : 'fail');
}

function input(criterion, part) {
  const box = Console.el('input', { type: 'text', inputMode: 'numeric', 'data-criterion': criterion.id,
    'data-part': part });
  box.addEventListener('input', changed);
  return box;
}

function criterionRow(c) {
  let field;
  if (c.kind === 'bool') {
    field = Console.el('select', { 'data-criterion': c.id, 'data-part': 'flag' },
      Console.el('option', { value: '' }, '—'),
      Console.el('option', { value: 'true' }, Console.t('yes')),
      Console.el('option', { value: 'false' }, Console.t('no')));
    field.addEventListener('change', changed);
  } else if (c.kind === 'count') {
    field = input(c, 'count');
  } else {
    field = Console.el('span', {}, input(c, 'num'), ' / ', input(c, 'den'),
      Console.el('span', { class: 'percent', id: 'pct-' + c.id }));
  }
  const comment = Console.el('textarea', { 'data-comment': c.id, placeholder: Console.t('comment') });
  comment.addEventListener('input', changed);
  const title = Console.lang() === 'en' && c.title_en ? c.title_en : c.title_zh;
  return Console.el('div', { class: 'criterion', 'data-kind': c.kind, 'data-op': c.op,
    'data-threshold': c.threshold, id: 'row-' + c.id },
  Console.el('span', { class: 'id' }, c.id),
  Console.el('span', {}, title, Console.el('div', { class: 'need' }, needText(c)), comment),
  Console.el('span', {}, field),
  Console.el('span', { class: 'verdict none', id: 'verdict-' + c.id }, Console.t('blank')),
  Console.el('span', { class: 'field-error message', id: 'error-' + c.id }),
  Console.el('span', { class: 'reason', id: 'reason-' + c.id }));
}

function renderForm() {
  const root = $('form');
  root.replaceChildren();
  for (const section of state.form.sections) {
    const part = Console.el('section', { class: 'part' }, Console.el('h2', {}, section.id + ' ' +
      (Console.lang() === 'en' && section.title_en ? section.title_en : section.title_zh)));
    for (const item of section.items) {
      const set = Console.el('fieldset', { class: 'item', id: 'item-' + item.id },
        Console.el('legend', {}, item.id + ' ', Console.el('span', { class: 'verdict none', id: 'item-verdict-' + item.id }, '-')));
      item.criteria.forEach((c) => set.append(criterionRow(c)));
      part.append(set);
    }
    root.append(part);
  }
}

/* A typed number as JSON: a whole number as a number, anything else as the
 * text typed, so that the node answers with its precise message. */
function typed(text) {
  const trimmed = text.trim();
  /* Numbers JavaScript holds exactly go as numbers (3.5 and -1 too: the node
   * names what is wrong with them); anything else as the text. */
  return /^-?[0-9]{1,15}(\.[0-9]{1,6})?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/* The form as report JSON (docs/formats.md). forDraft keeps the comments of
 * blank criteria too. */
function collect(forDraft) {
  const values = {}, comments = {};
  for (const field of document.querySelectorAll('[data-criterion]')) {
    const id = field.dataset.criterion, part = field.dataset.part;
    if (part === 'flag' && field.value !== '') values[id] = field.value === 'true';
    if (part === 'count' && field.value.trim() !== '') values[id] = typed(field.value);
    if (part === 'num' || part === 'den') {
      const other = document.querySelector(`[data-criterion="${id}"][data-part="${part === 'num' ? 'den' : 'num'}"]`);
      if (field.value.trim() !== '' || other.value.trim() !== '') {
        values[id] = values[id] || {};
        values[id][part] = typed(field.value);
      }
    }
  }
  for (const box of document.querySelectorAll('[data-comment]'))
    if (box.value.trim() !== '' && (forDraft || box.dataset.comment in values)) comments[box.dataset.comment] = box.value;
  return { year: state.year, values, comments };
}

function fill(report) {
  const values = report.values || {}, comments = report.comments || {};
  for (const field of document.querySelectorAll('[data-criterion]')) {
    const value = values[field.dataset.criterion], part = field.dataset.part;
    if (value === undefined) field.value = '';
    else if (part === 'flag') field.value = String(value);
    else if (part === 'count') field.value = String(value);
    else field.value = value[part] === undefined ? '' : String(value[part]);
  }
  for (const box of document.querySelectorAll('[data-comment]')) box.value = comments[box.dataset.comment] || '';
}

function showPercents() {
  for (const span of document.querySelectorAll('.percent')) {
    const id = span.id.slice(4);
    const num = Number(document.querySelector(`[data-criterion="${id}"][data-part="num"]`).value);
    const den = Number(document.querySelector(`[data-criterion="${id}"][data-part="den"]`).value);
    span.textContent = den > 0 && num >= 0 ? (100 * num / den).toFixed(2) + '%' : '';
  }
}

function showCheck(check) {
  state.lastCheck = check;
  document.querySelectorAll('.field-error, .reason').forEach((node) => { node.textContent = ''; });
  $('blank-note').textContent = '';
  for (const [id, message] of Object.entries(check.fields || {})) {
    const node = $('error-' + id);
    if (node) node.textContent = message;
  }
  const fieldErrors = Object.keys(check.fields || {}).length;
  $('form-error').textContent = check.valid || fieldErrors ? '' : check.error;
  if (!check.valid) {
    /* No verdict while the form cannot be read: an old one would mislead. */
    document.querySelectorAll('[id^="verdict-"], [id^="item-verdict-"], #overall').forEach((node) => {
      node.className = 'verdict none';
      node.textContent = '-';
    });
    $('items-passed').textContent = '';
    return;
  }
  for (const [id, result] of Object.entries(check.criteria)) {
    verdict($('verdict-' + id), result.passed, result.present);
    /* Why it fails, as `submit --check` words it: the value against the rule. */
    if (!result.passed && result.present) $('reason-' + id).textContent = result.reason;
  }
  for (const [id, passed] of Object.entries(check.items)) verdict($('item-verdict-' + id), passed, true);
  verdict($('overall'), check.qualified, true);
  $('items-passed').textContent = `${Console.t('items_passed')} ${check.items_passed}/${check.item_count}` +
    (check.blank_count ? ` · ${Console.t('missing')} ${check.blank_count}` : '');
  if (check.blank_count) $('blank-note').textContent = Console.t('blank_note') + check.blank.join('、');
}

async function check() {
  const { ok, data } = await Console.api('POST', '/api/county/check', collect(false));
  if (ok) showCheck(data);
  else $('form-error').textContent = data.error;
}

function changed() {
  state.dirty = true;
  $('draft-state').textContent = Console.t('unsaved');
  showPercents();
  clearTimeout(state.timer);
  state.timer = setTimeout(check, 250);
}

function showDraft(draft) {
  if (!draft) { $('draft-state').textContent = Console.t('draft_none'); return; }
  $('draft-state').textContent = Console.t('draft_saved') + Console.when(draft.saved_at) +
    (draft.submitted_version ? Console.t('draft_submitted').replace('{v}', draft.submitted_version) : '');
}

async function save() {
  const { ok, data } = await Console.api('POST', '/api/county/draft?year=' + state.year, collect(true));
  if (!ok) { $('form-error').textContent = data.error; return; }
  state.dirty = false;
  showDraft({ saved_at: data.saved_at, submitted_version: 0 });
}

/* Blank criteria fail: the official confirms them by name, and the submit
 * says so (allow_blank=1, as `submit --allow-blank`). */
async function submit() {
  await check();
  const last = state.lastCheck;
  const blanks = last && last.valid ? last.blank : [];
  if (blanks.length && !confirm(Console.t('confirm_missing').replace('{n}', blanks.length)
    .replace('{list}', blanks.join('、')))) return;
  const { ok, data } = await Console.api('POST', '/api/county/submit' + (blanks.length ? '?allow_blank=1' : ''),
    collect(false));
  if (!ok) {
    if (data.fields) showCheck(data);
    if (!data.fields || data.confirm_blank) $('form-error').textContent = data.error;
    return;
  }
  state.dirty = false;
  $('form-note').textContent = Console.t('submitted').replace('{v}', data.version) + data.report_id;
  showDraft({ saved_at: data.submitted_at, submitted_version: data.version });
  history();
}

/* A filled CSV or XLSX (the downloaded form, or any sheet of the template's
 * layout) read by the node as `submit FILE` reads it; its values fill the
 * form, nothing is saved: the official sees them checked, then saves. */
async function importFile(file) {
  $('import-note').textContent = '';
  const { ok, data } = await Console.api('POST', '/api/county/import?name=' + encodeURIComponent(file.name), file);
  if (!ok) { $('form-error').textContent = data.error; return; }
  if (data.report.year !== state.year) { state.year = data.report.year; await load(); }
  $('form-error').textContent = '';
  fill(data.report);
  changed();
  $('import-note').textContent = Console.t('imported').replace('{f}', data.source) + (data.note ? ' · ' + data.note : '');
}

/* The form as it is now, as the template filled with its values. */
async function download(format) {
  const { ok, data } = await Console.api('POST', `/api/county/export?format=${format}&lang=${Console.lang()}`, collect(false));
  if (!ok) { if (data.fields) showCheck(data); else $('form-error').textContent = data.error; return; }
  const link = Console.el('a', { href: URL.createObjectURL(data),
    download: `${Console.t('form_file')}-${state.form.unit}-${state.year}.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function stateText(version) {
  const key = (version.state || 'stored').split(':')[0];
  return Console.t('state_' + key);
}

async function history() {
  const { ok, data } = await Console.api('GET', '/api/county/history?year=' + state.year);
  const table = $('history');
  if (!ok) { table.replaceChildren(); return; }
  const head = Console.el('tr', {}, ...['version', 'report_id', 'submitted_at', 'state', 'reason']
    .map((key) => Console.el('th', {}, Console.t(key))));
  const rows = data.versions.slice().reverse().map((v) => Console.el('tr', { 'data-version': v.version },
    Console.el('td', {}, v.version), Console.el('td', {}, v.report_id), Console.el('td', {}, Console.when(v.submitted_at)),
    Console.el('td', {}, stateText(v)),
    Console.el('td', {}, v.return_reason || (v.refusal_reason ? (v.refused_by ? v.refused_by + ': ' : '') + v.refusal_reason : ''))));
  if (!rows.length) rows.push(Console.el('tr', {}, Console.el('td', { colSpan: 5 }, Console.t('no_versions'))));
  table.replaceChildren(head, ...rows);
}

async function result() {
  const { ok, data } = await Console.api('GET', '/api/county/result?year=' + state.year);
  const box = $('result');
  const unit = ok && data.published ? (data.published.units || []).find((u) => u.code === state.form.unit) : null;
  if (!unit) { box.replaceChildren(Console.el('p', { class: 'note' }, Console.t('not_published'))); return; }
  const marks = [unit.qualified ? 'qualified' : 'not_qualified'];
  if (unit.recommended) marks.push('recommended');
  if (unit.demonstration) marks.push('demonstration');
  if (unit.national_candidate) marks.push('national');
  box.replaceChildren(Console.el('p', {}, marks.map((key) => Console.t(key)).join(' · ')));
}

async function load() {
  Console.translate();
  const params = new URLSearchParams(location.search);
  const node = await Console.api('GET', '/api/node' + (params.get('year') ? '?year=' + params.get('year') : ''));
  if (!node.ok) return;
  state.year = state.year || node.data.year;
  $('who').textContent = `${node.data.name || ''} ${node.data.code} · ${node.data.programme.title}`;
  $('year').replaceChildren(...node.data.years.map((y) => Console.el('option', { value: y, selected: y === state.year }, y)));
  const form = await Console.api('GET', '/api/county/form?year=' + state.year);
  if (!form.ok) { $('form-error').textContent = form.data.error; return; }
  state.form = form.data;
  renderForm();
  $('deadline').textContent = Console.t('deadline') + Console.when(form.data.deadline);
  if (form.data.draft) {
    try { fill(JSON.parse(form.data.draft.text)); } catch (e) { /* a draft that is no JSON is shown empty */ }
  }
  showDraft(form.data.draft);
  showPercents();
  await Promise.all([check(), history(), result()]);
  state.dirty = false;
}

$('save').onclick = save;
$('import').onclick = () => $('import-file').click();
$('import-file').onchange = () => {
  const file = $('import-file').files[0];
  /* Emptied afterwards, so that the same file can be imported again. */
  if (file) importFile(file).finally(() => { $('import-file').value = ''; });
};
$('download-xlsx').onclick = () => download('xlsx');
$('download-csv').onclick = () => download('csv');
$('submit').onclick = submit;
$('year').onchange = () => { state.year = Number($('year').value); load(); };
$('lang').onclick = () => { Console.setLang(Console.lang() === 'en' ? 'zh' : 'en'); load(); };
window.addEventListener('beforeunload', (event) => { if (state.dirty) event.preventDefault(); });
load();
