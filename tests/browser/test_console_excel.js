#!/usr/bin/env node
/* A form filled in Excel and imported gives the same report as the same
 * values typed in the page (issue 11's done-when), with two county nodes and
 * Debian's chromium: on the first, an official types values (one ratio
 * failing, one criterion left blank and confirmed at submit, comments),
 * downloads the form as XLSX (which must carry what was typed) and submits;
 * on the second, the page's XLSX download (the empty template) is filled
 * with the same values by openpyxl, as Excel would, imported through the
 * page (the form shows them, checked), and submitted. Both stored reports
 * evaluate alike (`evaluate --year Y --json`: every criterion's value and
 * verdict). A broken workbook's import gets the CLI's message for the same
 * file. Screenshot: county-4-imported.png. Exit 77: no browser here. */
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { SHOTS, fail, workDir, freePort, run, initCounties, startCounty, stopCleanly, launch, fillPassing,
  verdictIs, runTest } = require('./lib');

const PYTHON = '/usr/bin/python3'; /* Debian's, where python3-openpyxl installs */

/* The workbook's values as report JSON values and comments (bools from
 * 是/否, counts, ratios from 分子/分母), read with openpyxl. */
function readWorkbook(file) {
  const script = `
import json, sys, openpyxl
sheet = openpyxl.load_workbook(sys.argv[1]).worksheets[0]
rows = list(sheet.iter_rows(values_only=True))
col = {name: i for i, name in enumerate(rows[0])}
values, comments = {}, {}
for row in rows[1:]:
    cid, value, num, den, comment = (row[col[k]] for k in ('指标编号', '值', '分子', '分母', '说明'))
    if value in ('是', '否'): values[cid] = value == '是'
    elif value is not None: values[cid] = value
    elif num is not None: values[cid] = {'num': num, 'den': den}
    if comment: comments[cid] = comment
print(json.dumps({'values': values, 'comments': comments}))`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' }));
}

/* Writes the typed values and comments into the template workbook's cells,
 * as an official does in Excel. */
function fillWorkbook(template, filled, form) {
  const script = `
import json, sys, openpyxl
form = json.loads(sys.argv[3])
book = openpyxl.load_workbook(sys.argv[1])
sheet = book.worksheets[0]
header = [cell.value for cell in sheet[1]]
col = {name: header.index(name) + 1 for name in ('指标编号', '值', '分子', '分母', '说明')}
for r in range(2, sheet.max_row + 1):
    cid = sheet.cell(r, col['指标编号']).value
    value = form['values'].get(cid)
    if isinstance(value, bool): sheet.cell(r, col['值']).value = '是' if value else '否'
    elif isinstance(value, int): sheet.cell(r, col['值']).value = value
    elif value is not None:
        sheet.cell(r, col['分子']).value = value['num']
        sheet.cell(r, col['分母']).value = value['den']
    if cid in form['comments']: sheet.cell(r, col['说明']).value = form['comments'][cid]
book.save(sys.argv[2])`;
  execFileSync(PYTHON, ['-c', script, template, filled, JSON.stringify(form)]);
}

async function download(page, button, file) {
  const [saved] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), page.click(button)]);
  await saved.saveAs(file);
  return saved.suggestedFilename();
}

async function submitted(page) {
  await page.click('#submit');
  await page.waitForSelector('#history tr[data-version="1"]', { timeout: 5000 });
}

/* Each criterion's value and verdict as the node's self-check gives them. */
function evaluated(dir) {
  const document = JSON.parse(run('county-node', '--data', dir, 'evaluate', '--year', '2020', '--json'));
  return JSON.stringify(document.units[0].criteria);
}

async function typeOnFirst(page, ids) {
  await fillPassing(page);
  await page.fill(`[data-criterion="${ids.ratio}"][data-part="num"]`, '50');
  await page.selectOption(`[data-criterion="${ids.bool}"]`, 'false');
  await page.fill(`[data-criterion="${ids.count}"][data-part="count"]`, '');
  await page.fill(`[data-comment="${ids.ratio}"]`, '含外来务工人员, "约" 50%');
  await page.fill(`[data-comment="${ids.bool}"]`, '尚未召开');
  await page.waitForFunction((id) => document.getElementById('reason-' + id).textContent !== '', ids.ratio,
    { timeout: 5000 });
  await verdictIs(page, `verdict-${ids.count}`, '未填');
  const reason = await page.textContent(`[id="reason-${ids.ratio}"]`);
  if (!reason.startsWith('50.00%（50/100），要求 ≥')) fail(`the reason beside ${ids.ratio} is "${reason}"`);
  const blanks = await page.textContent('#blank-note');
  if (!blanks.endsWith(`：${ids.count}`)) fail(`the blank criteria are named as "${blanks}"`);
}

async function main() {
  const work = workDir();
  const [first, second] = await initCounties('530102', '530103');
  const ports = [await freePort(), await freePort()];
  const counties = [await startCounty(first, ports[0]), await startCounty(second, ports[1])];
  const context = await launch();
  const page = context.pages()[0] || await context.newPage();
  page.on('dialog', (dialog) => dialog.accept()); /* the blank criterion, confirmed */
  await page.goto(`http://127.0.0.1:${ports[0]}/?year=2020`);
  await page.waitForSelector('.criterion');
  const ids = {
    ratio: await page.$eval('.criterion[data-kind="ratio"][data-op=">="]', (row) => row.id.slice(4)),
    bool: await page.$eval('.criterion[data-kind="bool"]', (row) => row.id.slice(4)),
    count: await page.$eval('.criterion[data-kind="count"]', (row) => row.id.slice(4)),
  };
  await typeOnFirst(page, ids);
  const typed = await page.evaluate(() => collect(false));
  const name = await download(page, '#download-xlsx', path.join(work, 'typed.xlsx'));
  if (name !== '自评表-530102-2020.xlsx') fail(`the download is named ${name}`);
  const carried = readWorkbook(path.join(work, 'typed.xlsx'));
  if (JSON.stringify(carried) !== JSON.stringify({ values: typed.values, comments: typed.comments }))
    fail(`the download carries ${JSON.stringify(carried)}, typed ${JSON.stringify(typed)}`);
  await submitted(page);

  await page.goto(`http://127.0.0.1:${ports[1]}/?year=2020`);
  await page.waitForSelector('.criterion');
  await download(page, '#download-xlsx', path.join(work, 'template.xlsx'));
  fillWorkbook(path.join(work, 'template.xlsx'), path.join(work, '自评表.xlsx'), typed);
  fs.writeFileSync(path.join(work, 'bad.xlsx'), Buffer.from('PK\u0003\u0004 not really a workbook'));
  await page.setInputFiles('#import-file', path.join(work, 'bad.xlsx'));
  await page.waitForFunction(() => document.getElementById('form-error').textContent !== '', null, { timeout: 5000 });
  let cli = '';
  try { execFileSync(path.join(process.env.BIN, 'county-node'), ['--data', second, 'submit', 'bad.xlsx'], { cwd: work, stdio: 'pipe' }); } catch (e) { cli = e.stderr.toString().trim(); }
  const shown = await page.textContent('#form-error');
  /* Both run in this environment, so in one language: error: or 错误：. */
  if (cli !== `error: ${shown}` && cli !== `错误：${shown}`) fail(`a broken workbook: the page says "${shown}", the CLI "${cli}"`);

  await page.setInputFiles('#import-file', path.join(work, '自评表.xlsx'));
  await page.waitForFunction(() => document.getElementById('import-note').textContent.startsWith('已导入 自评表.xlsx'), null, { timeout: 5000 });
  await verdictIs(page, `verdict-${ids.ratio}`, '不合格');
  const imported = await page.evaluate(() => collect(false));
  if (JSON.stringify(imported) !== JSON.stringify(typed)) fail(`the form shows ${JSON.stringify(imported)} after the import, typed ${JSON.stringify(typed)}`);
  await page.screenshot({ path: path.join(SHOTS, 'county-4-imported.png'), fullPage: true });
  await submitted(page);

  const [a, b] = [evaluated(first), evaluated(second)];
  if (a !== b) fail(`the typed report evaluates as ${a}, the imported one as ${b}`);
  for (const county of counties) await stopCleanly(county);
  console.log(`ok: typed on 530102 and imported from Excel on 530103 evaluate alike (${ids.ratio} failing, ${ids.count} blank); the download carried the typed values`);
}

runTest(main);
