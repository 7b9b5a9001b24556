#!/usr/bin/env node
/* The prefecture hub's console in a real browser (Debian's chromium,
 * headless, driven by playwright-core; no browser download), against real
 * daemons on 127.0.0.1: a hub (its clock in October, past the
 * recommendation deadline) and three counties, two of which submit through
 * the CLI (one on time, one late with item 2.2 failing) and deliver over the
 * link. The page shows them and the missing one, marks 2.2 failed with the
 * verdict line `prefecture-hub report` prints, records an inspection,
 * refuses the confirm until the override is ticked (then `recommend --json`
 * shows it confirmed and the log names the override), and returns a report
 * that reaches the county (`county-node list --json`). Screenshots go to
 * $SCREENSHOTS. Exit 77: no browser here. */
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { BIN, SHOTS, started, fail, freePort, killed, workDir, openPage, cleanup } = require('./lib');

const HUB_NOW = '2018-10-08T10:00:00+08:00'; /* after 2018-09-30, the recommendation deadline */
let work = null;

function run(program, args, options = {}) {
  return execFileSync(path.join(BIN, program), args, { encoding: 'utf8', ...options });
}
const at = (now) => ({ env: { ...process.env, SHIFAN_NOW: now } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Starts a daemon, its output in WORK/NAME.log; kept for the cleanup. */
function daemon(name, program, args, env) {
  const log = fs.openSync(path.join(work, name + '.log'), 'a');
  const child = spawn(path.join(BIN, program), args, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  child.logName = name;
  started.push(child);
  return child;
}
const logOf = (name) => fs.readFileSync(path.join(work, name + '.log'), 'utf8');

async function until(what, test, seconds = 15) {
  for (let i = 0; i < seconds * 10; i++) {
    if (await test()) return;
    await sleep(100);
  }
  fail(`${what} did not happen within ${seconds} s`);
}

/* A Yunnan report that passes every item (tests/e2e/lib.sh's report_json). */
function report(unit, changes) {
  const values = { '1.1': true, '1.2a': true, '1.2b': true, '1.2c': 2, '1.3': true, '1.4a': true, '1.4b': 2, '1.5': true,
    '2.1': { num: 950, den: 1000 }, '2.2': { num: 850, den: 1000 }, '2.3': { num: 960, den: 1000 },
    '2.4': { num: 930, den: 1000 }, '2.5': { num: 880, den: 1000 }, '2.6': { num: 870, den: 1000 },
    '2.7': { num: 50, den: 50 }, '2.8': { num: 970, den: 1000 },
    '3.1': true, '3.2': true, '3.3a': true, '3.3b': 3, '3.4': true, '3.5': 6, '3.6': 2,
    '4.1': true, '4.2': true, '4.3': true, '4.4': true, '4.5': true,
    '5.1': true, '5.2': true, '5.3': 2, '5.4a': 1, '5.4b': 1, '5.4c': 12, '5.5': true,
    '6.1': { num: 95, den: 100 }, '6.2': { num: 92, den: 100 }, '6.3': { num: 97, den: 100 }, ...changes };
  return JSON.stringify({ unit, year: 2018, values });
}

/* A hub 530100 and counties 530102, 530103, 530111, keys exchanged. */
async function deploy() {
  const provincePort = await freePort(), hubPort = await freePort();
  const provinceKey = run('province-core', ['--data', path.join(work, 'province'), 'init', '--listen',
    `tcp://127.0.0.1:${provincePort}`]).match(/public key: (\S+)/)[1];
  const hubDir = path.join(work, 'hub');
  const hubKey = run('prefecture-hub', ['--data', hubDir, 'init', '--code', '530100', '--listen',
    `tcp://127.0.0.1:${hubPort}`, '--upstream', `tcp://127.0.0.1:${provincePort}`, '--upstream-key', provinceKey])
    .match(/public key: (\S+)/)[1];
  for (const code of ['530102', '530103', '530111']) {
    const dir = path.join(work, code);
    run('county-node', ['--data', dir, 'init', '--code', code, '--upstream', `tcp://127.0.0.1:${hubPort}`,
      '--upstream-key', hubKey]);
    run('prefecture-hub', ['--data', hubDir, 'allow', '--code', code, '--key', run('county-node', ['--data', dir, 'key']).trim()]);
  }
  return hubDir;
}

async function startHub(hubDir, port) {
  const hub = daemon('hub', 'prefecture-hub', ['--data', hubDir, 'run', '--http', `127.0.0.1:${port}`], { SHIFAN_NOW: HUB_NOW });
  await until('the hub\'s console answering', async () => {
    if (hub.exitCode !== null) fail(`prefecture-hub exited ${hub.exitCode}: ${logOf('hub')}`);
    try { return (await fetch(`http://127.0.0.1:${port}/api/node`)).ok; } catch (e) { return false; }
  }, 10);
  return hub;
}

/* The line `prefecture-hub report` prints under a unit for a criterion. */
function reportLine(hubDir, unit, criterion) {
  const text = run('prefecture-hub', ['--data', hubDir, 'report', '--year', '2018'], at(HUB_NOW));
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(unit + ' '));
  const line = lines.slice(start + 1).find((l) => l.trim().startsWith(`✗ ${criterion} `));
  if (start < 0 || !line) fail(`report has no line for ${unit} ${criterion}: ${text}`);
  return line.trim();
}

async function textOf(page, id) { return page.textContent(`[id="${id}"]`); }

/* Waits until a county's row (refreshed after a change) shows text. */
async function rowSays(page, code, text) {
  await page.waitForFunction(([c, t]) => document.getElementById('county-' + c).textContent.includes(t), [code, text],
    { timeout: 5000 }).catch(async () => fail(`the row of ${code} reads "${await textOf(page, 'county-' + code)}", not "${text}"`));
}

async function checkOverview(page, hubDir) {
  await page.waitForSelector('[id="county-530111"]');
  const h1 = await page.textContent('h1');
  if (h1 !== '州市审核与推荐') fail(`the page is headed "${h1}", not in Chinese`);
  const status = async (code) => page.getAttribute(`[id="county-${code}"]`, 'data-status');
  if (await status('530102') !== 'on_time' || await status('530103') !== 'late' || await status('530111') !== 'missing')
    fail(`statuses: ${await status('530102')} ${await status('530103')} ${await status('530111')}`);
  if (!(await textOf(page, 'county-530111')).includes('未报')) fail('530111 is not shown as 未报');
  /* The failed cell carries the verdict line `report` prints. */
  const cell = page.locator('[id="cell-530103-2.2"]');
  if (!(await cell.getAttribute('class')).includes('fail') || (await cell.textContent()) !== '✗') fail('2.2 of 530103 is not marked failed');
  const line = reportLine(hubDir, '530103', '2.2');
  if ((await cell.getAttribute('title')) !== line) fail(`the cell says "${await cell.getAttribute('title')}", report "${line}"`);
  if ((await page.getAttribute('[id="cell-530102-2.2"]', 'class')).includes('fail')) fail('2.2 of 530102 is marked failed');
  await cell.click();
  if (!(await textOf(page, 'cell-detail')).includes(line)) fail('a click does not show the reason');
  const first = await page.getAttribute('.holder[data-holder="530100"] tr[data-rank="1"]', 'data-unit');
  if (first !== '530102') fail(`the ranking starts with ${first}`);
  const aggregate = await textOf(page, 'aggregate-530100-2.2');
  if (!aggregate.includes('950/2000')) fail(`the aggregate of 2.2 reads "${aggregate}", not Σnum/Σden 950/2000`);
  await page.screenshot({ path: path.join(SHOTS, 'hub-1-overview.png'), fullPage: true });
  return line;
}

async function inspectAndConfirm(page, hubDir) {
  await page.selectOption('#inspect-unit', '530102');
  await page.fill('[data-criterion="2.1"][data-part="num"]', '95');
  await page.fill('[data-criterion="2.1"][data-part="den"]', '100');
  await page.click('#inspect-save');
  await page.waitForFunction(() => document.getElementById('inspect-message').textContent.includes('已保存核查'), null, { timeout: 5000 });
  const inspections = JSON.parse(run('prefecture-hub', ['--data', hubDir, 'status', '--json'])).inspections;
  if (inspections !== 1) fail(`the hub stores ${inspections} inspections`);
  await rowSays(page, '530102', '已核查');

  await page.click('#confirm');
  await page.waitForFunction(() => document.getElementById('confirm-message').textContent.includes('2018-09-30T23:59:59+08:00'), null, { timeout: 5000 });
  const recommend = () => JSON.parse(run('prefecture-hub', ['--data', hubDir, 'recommend', '--year', '2018', '--json']));
  if (recommend().confirmed) fail('a confirm past the deadline without the override was taken');
  await page.check('#override');
  await page.click('#confirm');
  await page.waitForSelector('[id="list-530100"].confirmed', { timeout: 5000 });
  const stored = recommend();
  if (!stored.confirmed || JSON.stringify(stored.units) !== '["530102"]') fail(`recommend --json: ${JSON.stringify(stored)}`);
  await until('the override in the hub\'s log', () => logOf('hub').includes('(no login) overrode the recommendation deadline of 2018 (2018-09-30T23:59:59+08:00)'), 5);
  await page.screenshot({ path: path.join(SHOTS, 'hub-2-confirmed.png'), fullPage: true });
}

async function returnReport(page) {
  const reason = '2.2 签约服务覆盖率偏低，请核实后重报';
  await page.selectOption('#return-unit', '530103');
  await page.fill('#return-reason', reason);
  await page.click('#return-send');
  await page.waitForFunction(() => document.getElementById('return-message').textContent.includes('已退回 530103'), null, { timeout: 5000 });
  await rowSays(page, '530103', '已退回修改');
  const countyDir = path.join(work, '530103');
  await until('the return at the county', () => {
    const listed = JSON.parse(run('county-node', ['--data', countyDir, 'list', '--json']));
    return listed.length === 1 && listed[0].state === 'returned' && listed[0].return_reason === reason;
  });
  if (!logOf('hub').includes(`(no login): returned 530103 2018 for correction through the web console: ${reason}`)) fail('the return is not logged');
  await page.screenshot({ path: path.join(SHOTS, 'hub-3-returned.png'), fullPage: true });
}

async function main() {
  work = workDir('shifan-browser-hub-');
  const hubDir = await deploy();
  for (const code of ['530102', '530103', '530111']) daemon('c' + code, 'county-node', ['--data', path.join(work, code), 'run']);
  run('county-node', ['--data', path.join(work, '530102'), 'submit', '-'], { ...at('2018-07-15T09:00:00+08:00'), input: report('530102', {}) });
  run('county-node', ['--data', path.join(work, '530103'), 'submit', '-'],
    { ...at('2018-08-05T09:00:00+08:00'), input: report('530103', { '2.2': { num: 100, den: 1000 } }) });
  const port = await freePort();
  const hub = await startHub(hubDir, port);
  await until('both reports at the hub', () => JSON.parse(run('prefecture-hub', ['--data', hubDir, 'status', '--json'])).reports === 2, 20);

  const url = `http://127.0.0.1:${port}/`;
  const page = await openPage(url, { width: 1400, height: 1000 });
  await page.goto(url);
  const line = await checkOverview(page, hubDir);
  await inspectAndConfirm(page, hubDir);
  await returnReport(page);

  await page.goto(url + '?lang=en');
  await page.waitForSelector('[id="county-530111"]');
  if ((await page.textContent('h1')) !== 'Prefecture review and recommendation') fail('?lang=en does not switch the labels');
  if (page.external.length) fail(`the page made requests elsewhere: ${page.external.join(', ')}`);
  hub.kill('SIGTERM');
  await killed(hub);
  if (hub.exitCode !== 0) fail(`prefecture-hub exited ${hub.exitCode} on SIGTERM: ${logOf('hub').slice(-3000)}`);
  if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(logOf('hub'))) fail(`a sanitizer report in the hub's log: ${logOf('hub').slice(-3000)}`);
  console.log(`ok: 530102 on time, 530103 late, 530111 missing; 2.2 of 530103 "${line}"; inspection stored; confirm refused past the deadline, then taken with the override; the return reached 530103; screenshots in ${SHOTS}`);
}

main().then(() => cleanup(), async (error) => {
  console.error(`FAIL: ${error.message}`);
  if (work) for (const name of ['hub', 'c530102', 'c530103']) {
    try { console.error(`--- ${name}.log\n${logOf(name).slice(-2000)}`); } catch (e) { /* not started */ }
  }
  await cleanup();
  process.exit(1);
});
