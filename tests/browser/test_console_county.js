#!/usr/bin/env node
/* The county's console in a real browser (Debian's chromium, headless,
 * driven by playwright-core; no browser download): an official fills in the
 * form, sees an item turn from 不合格 to 合格 as a value is corrected, gets
 * the reason of a failed criterion (value against threshold, as
 * `submit --check` says it) and the CLI's message next to a bad field, saves the draft, the daemon is
 * killed with SIGKILL and restarted, the reloaded page has the draft, and a
 * submit shows the version in the history. Screenshots go to
 * $SCREENSHOTS (the build folder's screenshots/). Exit 77: no browser here. */
'use strict';

const path = require('path');
const { SHOTS, fail, workDir, freePort, run, initCounties, startCounty, killed, stopCleanly, launch, fillPassing,
  verdictIs, runTest } = require('./lib');

async function main() {
  workDir();
  const [countyDir] = await initCounties('530102');
  const port = await freePort();
  let county = await startCounty(countyDir, port);
  const url = `http://127.0.0.1:${port}/`;

  const context = await launch();
  const page = context.pages()[0] || await context.newPage();
  const external = [];
  page.on('request', (request) => { if (!request.url().startsWith(url)) external.push(request.url()); });
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
  /* Why, as `submit --check` words it: the value against the threshold. */
  const reason = await page.textContent(`[id="reason-${ratio}"]`);
  if (!/^0\.00%（0\/100），要求 ≥ [0-9.]+%$/.test(reason)) fail(`the reason beside ${ratio} is "${reason}"`);
  const pct = await page.textContent(`[id="pct-${ratio}"]`);
  if (pct !== '0.00%') fail(`the percentage of ${ratio} shows "${pct}"`);
  await page.screenshot({ path: path.join(SHOTS, 'county-1-failing.png'), fullPage: true });

  await page.fill(`[data-criterion="${ratio}"][data-part="num"]`, '97');
  await verdictIs(page, `verdict-${ratio}`, '合格');
  await verdictIs(page, `item-verdict-${item}`, '合格');
  await verdictIs(page, 'overall', '合格');
  if (await page.textContent(`[id="reason-${ratio}"]`)) fail(`a reason stays beside ${ratio} once it passes`);

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
  if (external.length) fail(`the page made requests elsewhere: ${external.join(', ')}`);
  await stopCleanly(county);
  console.log(`ok: ${item} turned from 不合格 to 合格, "${message}" beside ${count}, the draft survived kill -9, version 1 submitted; screenshots in ${SHOTS}`);
}

runTest(main);
