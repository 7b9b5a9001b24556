#!/usr/bin/env node
/* The province's console in a real browser (Debian's chromium, headless,
 * driven by playwright-core) against real daemons on 127.0.0.1: a province,
 * two prefecture hubs and five counties that submit through the command
 * line and deliver over the links (one on time, one late, one with a failed
 * item, one the province inspects and finds contradicting its self-report,
 * one missing at first). Every figure the page shows equals `province-core
 * evaluate --format json`; the page updates by itself when the missing
 * county's report arrives; the drill-down shows a county's versions,
 * inspection, flags and reasons; the XLSX downloaded through the page, read
 * back with openpyxl, carries the same counts. Screenshots go to
 * $SCREENSHOTS. Exit 77: no browser here. */
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const { BIN, SHOTS, started, fail, freePort, killed: exited } = lib;
const NOW = '2018-08-20T10:00:00+08:00'; /* the daemons' and the evaluation's clock */
const YEAR = 2018;
let work = null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(program, args, options = {}) {
  return execFileSync(path.join(BIN, program), args,
    { encoding: 'utf8', env: { ...process.env, SHIFAN_NOW: options.now || NOW }, input: options.input, maxBuffer: 256 << 20 });
}

function daemon(name, program, args) {
  const log = fs.openSync(path.join(work, `${name}.log`), 'a');
  const child = spawn(path.join(BIN, program), args, { stdio: ['ignore', log, log], env: { ...process.env, SHIFAN_NOW: NOW } });
  child.logName = name;
  started.push(child);
  return child;
}

async function until(what, test, ms = 20000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) if (await test()) return;
  fail(`timed out waiting for ${what}`);
}

/* A report with every criterion passing; 2.1's numerator as given. */
function report(unit, num21) {
  return JSON.stringify({ unit, year: YEAR, values: {
    '1.1': true, '1.2a': true, '1.2b': true, '1.2c': 3, '1.3': true, '1.4a': true, '1.4b': 2, '1.5': true,
    '2.1': { num: num21, den: 1000 }, '2.2': { num: 850, den: 1000 }, '2.3': { num: 960, den: 1000 },
    '2.4': { num: 930, den: 1000 }, '2.5': { num: 880, den: 1000 }, '2.6': { num: 870, den: 1000 },
    '2.7': { num: 50, den: 50 }, '2.8': { num: 970, den: 1000 },
    '3.1': true, '3.2': true, '3.3a': true, '3.3b': 3, '3.4': true, '3.5': 6, '3.6': 2,
    '4.1': true, '4.2': true, '4.3': true, '4.4': true, '4.5': true,
    '5.1': true, '5.2': true, '5.3': 2, '5.4a': 1, '5.4b': 1, '5.4c': 12, '5.5': true,
    '6.1': { num: 95, den: 100 }, '6.2': { num: 92, den: 100 }, '6.3': { num: 97, den: 100 } } });
}

const TREE = { '530100': ['530102', '530103', '530111'], '530300': ['530302', '530303'] };

/* Province, hubs and counties initialised and registered; no daemon yet. */
async function deploy() {
  const provincePort = await freePort();
  const provinceKey = run('province-core', ['--data', path.join(work, 'province'), 'init', '--listen',
    `tcp://127.0.0.1:${provincePort}`]).match(/public key: (\S+)/)[1];
  for (const [hub, counties] of Object.entries(TREE)) {
    const hubPort = await freePort();
    const hubDir = path.join(work, hub);
    run('prefecture-hub', ['--data', hubDir, 'init', '--code', hub, '--listen', `tcp://127.0.0.1:${hubPort}`,
      '--upstream', `tcp://127.0.0.1:${provincePort}`, '--upstream-key', provinceKey]);
    const hubKey = run('prefecture-hub', ['--data', hubDir, 'key']).trim();
    run('province-core', ['--data', path.join(work, 'province'), 'allow', '--code', hub, '--key', hubKey]);
    for (const county of counties) {
      const dir = path.join(work, county);
      run('county-node', ['--data', dir, 'init', '--code', county, '--upstream', `tcp://127.0.0.1:${hubPort}`,
        '--upstream-key', hubKey]);
      run('prefecture-hub', ['--data', hubDir, 'allow', '--code', county, '--key',
        run('county-node', ['--data', dir, 'key']).trim()]);
    }
  }
}

function submit(county, num21, now) {
  return run('county-node', ['--data', path.join(work, county), 'submit', '-'], { now, input: report(county, num21) }).trim();
}

function evaluate() {
  return JSON.parse(run('province-core', ['--data', path.join(work, 'province'), 'evaluate', '--year', String(YEAR), '--format', 'json']));
}

function at(document, dotted) {
  return dotted.split('.').reduce((value, key) => (value === undefined || value === null ? value : value[key]), document);
}

const STATUS = { on_time: '按时', late: '迟报', missing: '未报' };
const FLAGS = { late: '迟报', discrepancy: '核查不符（取消本年度推荐资格）', returned: '已退回修改', missing_values: '有缺项',
  inspected: '经核查', corrected: '已更正', not_yet_due: '未到截止日期', designated_earlier: '往年已认定',
  claimed_time_implausible: '申报时间存疑' };

/* What the page shows for a value of the result, in its words. */
function shown(dotted, value) {
  const key = dotted.split('.').pop();
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (typeof value === 'number') return /percent/.test(key) ? value.toFixed(2) + '%' : String(value);
  if (key === 'status') return STATUS[value];
  if (key === 'flags') return value.map((f) => FLAGS[f]).join('；');
  if (key === 'failed') return value.join(' ');
  return null; /* lists of unit codes: compared by the codes the text names */
}

/* Every figure on the page (elements carrying the JSON path they show)
 * against the CLI's document; returns how many were compared. */
async function compareFigures(page, cli) {
  const figures = await page.$$eval('[data-path]', (nodes) => nodes.map((n) => [n.dataset.path, n.textContent]));
  const mismatches = [];
  for (const [dotted, text] of figures) {
    const value = at(cli, dotted);
    if (value === undefined) { mismatches.push(`${dotted}: not in evaluate's JSON`); continue; }
    const expected = shown(dotted, value);
    if (expected !== null ? text !== expected : (text.match(/\d{6}/g) || []).join(',') !== value.join(','))
      mismatches.push(`${dotted}: page "${text}", evaluate ${JSON.stringify(value)}`);
  }
  const rows = await page.$$eval('#units tr[data-code]', (r) => r.length);
  const prefectureRows = await page.$$eval('#prefectures tr[data-code]', (r) => r.length);
  if (rows !== cli.units.length) mismatches.push(`${rows} unit rows, evaluate has ${cli.units.length}`);
  if (prefectureRows !== cli.prefectures.length) mismatches.push(`${prefectureRows} prefecture rows, evaluate has ${cli.prefectures.length}`);
  if (mismatches.length) fail(`the page differs from evaluate --format json:\n  ${mismatches.slice(0, 20).join('\n  ')}`);
  return figures.length;
}

async function changes(url) {
  const answer = await (await fetch(url + 'api/province/changes')).json();
  return `${answer.generation}.${answer.revision}`;
}

/* Waits for the store to be quiet (the hubs' rankings sent), then for the
 * page to show that generation, and compares it with evaluate's JSON. */
async function settledCompare(page, url) {
  let last = await changes(url);
  for (let quiet = 0; quiet < 4; await sleep(1000)) {
    const now = await changes(url);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  await page.waitForFunction((g) => document.body.dataset.generation === g, last, { timeout: 10000 })
    .catch(() => fail(`the page did not refresh to generation ${last}`));
  const cli = evaluate();
  if ((await changes(url)) !== last) fail('the store moved while comparing; the test needs a quiet store');
  return { cli, compared: await compareFigures(page, cli) };
}

/* Reads the workbook back with Debian's python3-openpyxl: the summary
 * sheet's rows by code, and one prefecture sheet's rows by code. */
function readWorkbook(file) {
  const script = `
import json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
def rows(sheet):
    values = list(book[sheet].iter_rows(values_only=True))
    head = values[1]
    return {str(r[0]): dict(zip(head, r)) for r in values[2:] if r[0] is not None}
print(json.dumps({"sheets": book.sheetnames, "summary": rows("汇总"), "昆明市": rows("昆明市")}, ensure_ascii=False, default=str))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }));
}

function checkWorkbook(book, cli) {
  for (const p of cli.prefectures) {
    const row = book.summary[p.code];
    if (!row) fail(`the workbook's 汇总 has no row for ${p.code}`);
    const pairs = [['名额', p.quota], ['应报', p.completeness.expected], ['已报', p.completeness.reported],
      ['按时', p.timeliness.on_time], ['迟报', p.timeliness.late], ['未报', p.timeliness.missing], ['合格', p.qualified]];
    for (const [head, value] of pairs)
      if (Number(row[head]) !== value) fail(`workbook 汇总 ${p.code} ${head} = ${row[head]}, evaluate says ${value}`);
  }
  let reported = 0;
  for (const u of cli.units.filter((x) => x.prefecture === '530100')) {
    const row = book['昆明市'][u.code];
    const failed = (row && row['未通过项']) || '';
    if (!row || row['上报情况'] !== STATUS[u.status] ||
        (u.status !== 'missing' && (row['评定'] !== (u.qualified ? '合格' : '不合格') ||
          failed.split(/[;；\s,]+/).filter(Boolean).join(' ') !== u.failed.join(' '))))
      fail(`workbook 昆明市 ${u.code}: ${JSON.stringify(row)} against evaluate's ${u.status}, ${u.qualified}, ${u.failed}`);
    reported += u.status !== 'missing';
  }
  if (reported !== 3) fail(`昆明市 has ${reported} reported units in evaluate, expected 3`);
}

async function main() {
  work = lib.workDir('shifan-province-');
  await deploy();
  /* Submitted offline through the command line, each at its own time. */
  const onTime = '2018-07-10T09:00:00+08:00';
  submit('530102', 950, onTime);
  submit('530103', 990, onTime);
  const failedId = submit('530111', 500, onTime);
  submit('530302', 960, '2018-08-05T09:00:00+08:00');
  /* The province's own inspection of 530102 contradicts its 95 %. */
  run('province-core', ['--data', path.join(work, 'province'), 'inspect', '-'],
    { input: JSON.stringify({ unit: '530102', year: YEAR, values: { '2.1': { num: 800, den: 1000 } } }) });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  daemon('province', 'province-core', ['--data', path.join(work, 'province'), 'run', '--http', `127.0.0.1:${port}`]);
  for (const hub of Object.keys(TREE)) daemon(hub, 'prefecture-hub', ['--data', path.join(work, hub), 'run']);
  for (const county of Object.values(TREE).flat()) daemon(county, 'county-node', ['--data', path.join(work, county), 'run']);
  const stored = () => JSON.parse(run('province-core', ['--data', path.join(work, 'province'), 'status', '--json'])).reports;
  await until('4 reports at the province', () => stored() === 4);

  const page = await lib.openPage(url, { width: 1400, height: 1000 });
  const { external } = page;
  await page.goto(url + `?year=${YEAR}`);
  await page.waitForSelector('#units tr[data-code]');
  if ((await page.textContent('h1')) !== '全省年度概览') fail('the page is not headed in Chinese');

  let { cli, compared } = await settledCompare(page, url);
  const unit = (code) => cli.units.find((u) => u.code === code);
  if (!unit('530111').failed.includes('2.1') || !unit('530102').flags.includes('discrepancy') ||
      unit('530302').status !== 'late' || unit('530303').status !== 'missing')
    fail(`the deployment did not give the cases the test needs: ${JSON.stringify(cli.units.filter((u) => u.status !== 'missing' || u.code === '530303'))}`);
  const first = compared;
  await page.screenshot({ path: path.join(SHOTS, 'province-1-overview.png') });

  /* Drill-down: the county with the failed item, then the inspected one. */
  await page.click('#units tr[data-code="530111"] a');
  await page.waitForFunction(() => document.getElementById('unit').dataset.loaded === '530111');
  const versions = await page.textContent('#unit-versions');
  const reasons = await page.textContent('#unit-reasons');
  if (!versions.includes(failedId)) fail(`530111's versions do not show ${failedId}: ${versions}`);
  const listed = JSON.parse(run('province-core', ['--data', path.join(work, 'province'), 'list', '--json']))
    .filter((v) => v.unit === '530111');
  if (listed.length !== 1 || listed[0].report_id !== failedId) fail(`list --json has ${JSON.stringify(listed)}`);
  if (!/✗ 2\.1 .*50\.00%/.test(reasons)) fail(`530111's reasons read "${reasons}"`);
  await page.locator('#unit-part').screenshot({ path: path.join(SHOTS, 'province-2-unit.png') });
  await page.click('#units tr[data-code="530102"] a');
  await page.waitForFunction(() => document.getElementById('unit').dataset.loaded === '530102');
  const inspections = await page.textContent('#unit-inspections');
  const flags = await page.textContent('#unit-flags');
  if (!inspections.includes('2.1 = 800/1000') || !flags.includes('核查不符')) fail(`530102 shows inspections "${inspections}", flags "${flags}"`);

  /* The missing county reports (late) while the page is open. */
  const lateId = submit('530303', 970, '2018-08-10T09:00:00+08:00');
  const row = (code) => page.textContent(`#units tr[data-code="${code}"] [data-path$=".status"]`);
  await until('the page to show 530303 reported', async () => (await row('530303')) === '迟报', 30000);
  ({ cli, compared } = await settledCompare(page, url));
  if (unit('530303').report_id !== lateId) fail(`evaluate counts ${unit('530303').report_id}, not ${lateId}`);
  await page.locator('#units').screenshot({ path: path.join(SHOTS, 'province-3-updated.png') });

  /* The exports, downloaded through the page. */
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-xlsx')]);
  if (download.suggestedFilename() !== `shifan-530000-${YEAR}.xlsx`) fail(`the workbook is named ${download.suggestedFilename()}`);
  const xlsx = path.join(work, 'evaluation.xlsx');
  await download.saveAs(xlsx);
  const book = readWorkbook(xlsx);
  checkWorkbook(book, cli);
  for (const [format, name, starts] of [['csv', `shifan-530000-${YEAR}.csv`, '\ufeff年度,单位代码'],
    ['csv&lang=en', `shifan-530000-${YEAR}-en.csv`, '\ufeffyear,code'], ['html', `shifan-530000-${YEAR}.html`, '<!DOCTYPE html>'],
    ['json', `shifan-530000-${YEAR}.json`, '{']]) {
    const response = await fetch(`${url}api/province/export?year=${YEAR}&format=${format}`);
    const text = Buffer.from(await response.arrayBuffer()).toString('utf8');
    const disposition = response.headers.get('content-disposition') || '';
    if (!response.ok || !disposition.includes(`filename="${name}"`) || !text.startsWith(starts))
      fail(`export ${format}: ${response.status} ${disposition} "${text.slice(0, 40)}"`);
    if (format === 'json' && JSON.stringify(JSON.parse(text)) !== JSON.stringify(cli))
      fail('the JSON export differs from evaluate --format json');
  }

  await page.goto(url + `?year=${YEAR}&lang=en`);
  await page.waitForSelector('#units tr[data-code]');
  if ((await page.textContent('h1')) !== 'The year at a glance') fail('?lang=en does not switch the labels');
  if (external.length) fail(`the page made requests elsewhere: ${external.join(', ')}`);
  /* Clean stops (under ASan: nothing any daemon served leaked). */
  for (const child of started.filter((c) => c.logName)) {
    child.kill('SIGTERM');
    await exited(child);
    if (child.exitCode !== 0) fail(`${child.logName} exited ${child.exitCode} on SIGTERM: ${fs.readFileSync(path.join(work, `${child.logName}.log`), 'utf8').slice(-3000)}`);
  }
  console.log(`ok: ${first} then ${compared} figures equal evaluate --format json; the page updated when 530303 reported; ` +
    `drill-down, inspection and reasons shown; the workbook (${book.sheets.length} sheets) carries the same counts; screenshots in ${SHOTS}`);
}

main().then(lib.cleanup, async (error) => {
  console.error(`FAIL: ${error.message}`);
  for (const item of started) {
    if (!item.logName) continue;
    const log = fs.readFileSync(path.join(work, `${item.logName}.log`), 'utf8');
    if (log) console.error(`=== ${item.logName}.log (last lines)\n${log.split('\n').slice(-15).join('\n')}`);
  }
  await lib.cleanup();
  process.exit(1);
});
