#!/usr/bin/env node
/* The county's console in a real browser (Debian's chromium, headless,
 * driven by playwright-core; no browser download): an official fills in the
 * form, sees an item turn from 不合格 to 合格 as a value is corrected, gets
 * the CLI's message next to a bad field, saves the draft, the daemon is
 * killed with SIGKILL and restarted, the reloaded page has the draft, and a
 * submit shows the version in the history. Screenshots go to
 * $SCREENSHOTS (the build folder's screenshots/). Exit 77: no browser here. */
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { BIN, SHOTS, started, fail, freePort, killed, workDir, openPage, cleanup } = require('./lib');

let work = null;

function run(program, ...args) {
  return execFileSync(path.join(BIN, program), args, { encoding: 'utf8' });
}

/* Starts the county daemon with its console; resolves when it answers. */
async function startCounty(dir, port) {
  const log = fs.openSync(path.join(work, 'county.log'), 'a');
  const child = spawn(path.join(BIN, 'county-node'), ['--data', dir, 'run', '--http', `127.0.0.1:${port}`],
    { stdio: ['ignore', log, log] });
  started.push(child);
  for (let i = 0; i < 100; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/node`);
      if (response.ok) return child;
    } catch (e) { /* not listening yet */ }
    if (child.exitCode !== null) fail(`county-node exited ${child.exitCode}: ${fs.readFileSync(path.join(work, 'county.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  fail('the console did not answer within 10 s');
}

/* Fills every criterion with a passing value, as an official would type it. */
async function fillPassing(page) {
  await page.evaluate(() => {
    for (const row of document.querySelectorAll('.criterion')) {
      const kind = row.dataset.kind, op = row.dataset.op, threshold = Number(row.dataset.threshold);
      const set = (part, value) => {
        const field = row.querySelector(`[data-part="${part}"]`);
        field.value = value;
        field.dispatchEvent(new Event(part === 'flag' ? 'change' : 'input', { bubbles: true }));
      };
      if (kind === 'bool') set('flag', 'true');
      else if (kind === 'count') set('count', String(Math.ceil(threshold)));
      else if (op === '==') { set('num', String(Math.round(threshold * 1000))); set('den', '100000'); }
      else { set('num', '100'); set('den', '100'); }
    }
  });
}

/* Waits until the element with that id (ids hold criterion ids such as
 * "2.1", so no CSS selector) reads text. */
async function verdictIs(page, id, text) {
  await page.waitForFunction(([i, t]) => document.getElementById(i) && document.getElementById(i).textContent === t,
    [id, text], { timeout: 5000 }).catch(async () => {
    fail(`${id} is "${await page.textContent(`[id="${id}"]`)}", expected "${text}"`);
  });
}

async function main() {
  work = workDir('shifan-browser-');
  const upstreamPort = await freePort();
  const key = run('province-core', '--data', path.join(work, 'province'), 'init', '--listen',
    `tcp://127.0.0.1:${upstreamPort}`).match(/public key: (\S+)/)[1];
  const countyDir = path.join(work, 'county');
  run('county-node', '--data', countyDir, 'init', '--code', '530102', '--upstream',
    `tcp://127.0.0.1:${upstreamPort}`, '--upstream-key', key);
  const port = await freePort();
  let county = await startCounty(countyDir, port);
  const url = `http://127.0.0.1:${port}/`;

  const page = await openPage(work, url, { width: 1280, height: 900 });
  page.on('dialog', (dialog) => dialog.accept());

  await page.goto(url);
  await page.waitForSelector('.criterion');
  const h1 = await page.textContent('h1');
  if (h1 !== '示范县自评') fail(`the page is headed "${h1}", not in Chinese`);
  const ratio = await page.$eval('.criterion[data-kind="ratio"][data-op=">="]', (row) => row.id.slice(4));
  const count = await page.$eval('.criterion[data-kind="count"]', (row) => row.id.slice(4));
  const item = ratio.replace(/[a-z]$/, '');

  await fillPassing(page);
  await page.fill(`[data-criterion="${ratio}"][data-part="num"]`, '0');
  await verdictIs(page, `verdict-${ratio}`, '不合格');
  await verdictIs(page, `item-verdict-${item}`, '不合格');
  await verdictIs(page, 'overall', '不合格');
  const pct = await page.textContent(`[id="pct-${ratio}"]`);
  if (pct !== '0.00%') fail(`the percentage of ${ratio} shows "${pct}"`);
  await page.screenshot({ path: path.join(SHOTS, 'county-1-failing.png'), fullPage: true });

  await page.fill(`[data-criterion="${ratio}"][data-part="num"]`, '97');
  await verdictIs(page, `verdict-${ratio}`, '合格');
  await verdictIs(page, `item-verdict-${item}`, '合格');
  await verdictIs(page, 'overall', '合格');

  /* A bad value gets the CLI's message beside its field, then is corrected. */
  await page.fill(`[data-criterion="${count}"][data-part="count"]`, '3.5');
  await page.waitForFunction((id) => document.getElementById('error-' + id).textContent.includes(`$.values["${id}"]`), count, { timeout: 5000 });
  const message = await page.textContent(`[id="error-${count}"]`);
  await page.screenshot({ path: path.join(SHOTS, 'county-2-bad-value.png'), fullPage: true });
  await page.fill(`[data-criterion="${count}"][data-part="count"]`, '9');
  await page.waitForFunction((id) => document.getElementById('error-' + id).textContent === '', count, { timeout: 5000 });
  await page.fill(`[data-comment="${ratio}"]`, '含外来务工人员');

  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('draft-state').textContent.startsWith('草稿已保存'), null, { timeout: 5000 });

  /* The daemon dies without a word; the draft is in its store. */
  process.kill(county.pid, 'SIGKILL');
  await killed(county);
  county = await startCounty(countyDir, port);
  await page.reload();
  await page.waitForSelector('.criterion');
  const kept = await page.inputValue(`[data-criterion="${ratio}"][data-part="num"]`);
  const comment = await page.inputValue(`[data-comment="${ratio}"]`);
  if (kept !== '97' || comment !== '含外来务工人员') fail(`after kill -9 the draft shows ${ratio} = "${kept}", comment "${comment}"`);
  await verdictIs(page, 'overall', '合格');

  await page.click('#submit');
  await page.waitForSelector('#history tr[data-version="1"]', { timeout: 5000 });
  const row = await page.textContent('#history tr[data-version="1"]');
  if (!row.includes('排队待发')) fail(`the history shows "${row}"`);
  const listed = JSON.parse(run('county-node', '--data', countyDir, 'list', '--json'));
  if (listed.length !== 1 || !row.includes(listed[0].report_id)) fail(`list --json has ${JSON.stringify(listed)}`);
  await page.screenshot({ path: path.join(SHOTS, 'county-3-submitted.png'), fullPage: true });

  await page.goto(url + '?lang=en');
  await page.waitForSelector('.criterion');
  if ((await page.textContent('h1')) !== 'County self-assessment') fail('?lang=en does not switch the labels');
  if (page.external.length) fail(`the page made requests elsewhere: ${page.external.join(', ')}`);
  /* A clean stop (under ASan: nothing the console served leaked). */
  county.kill('SIGTERM');
  await killed(county);
  if (county.exitCode !== 0) fail(`county-node exited ${county.exitCode} on SIGTERM: ${fs.readFileSync(path.join(work, 'county.log'), 'utf8').slice(-3000)}`);
  console.log(`ok: ${item} turned from 不合格 to 合格, "${message}" beside ${count}, the draft survived kill -9, version 1 submitted; screenshots in ${SHOTS}`);
}

main().then(() => cleanup(work), async (error) => {
  console.error(`FAIL: ${error.message}`);
  await cleanup(work);
  process.exit(1);
});
