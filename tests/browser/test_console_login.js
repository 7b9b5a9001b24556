#!/usr/bin/env node
/* Logging in to the county's console in a real browser, once the node has
 * an operator account (docs/console.md, "Access"): the page opens on the
 * login form, a wrong password is refused with a message, the right one
 * opens the form, a draft saved through the page (so with the CSRF token
 * console.js sends) lands in the audit trail under the operator's name,
 * and logging out brings the login back. Exit 77: no browser here. */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const lib = require('./lib');

const { fail } = lib;
const pw = lib.playwright();
const started = [];
let work = null;

async function main() {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'shifan-browser-login-'));
  fs.mkdirSync(lib.SHOTS, { recursive: true });
  const upstreamPort = await lib.freePort();
  const key = lib.run('province-core', ['--data', path.join(work, 'province'), 'init', '--listen',
    `tcp://127.0.0.1:${upstreamPort}`]).match(/public key: (\S+)/)[1];
  const dir = path.join(work, 'county');
  lib.run('county-node', ['--data', dir, 'init', '--code', '530102', '--upstream',
    `tcp://127.0.0.1:${upstreamPort}`, '--upstream-key', key]);
  lib.run('county-node', ['--data', dir, 'operator', 'add', '--name', '王五'], 'a long passphrase\n');
  const port = await lib.freePort();
  const log = path.join(work, 'county.log');
  const county = await lib.startDaemon('county-node', dir, port, log);
  started.push(county);
  const url = `http://127.0.0.1:${port}/`;

  const context = await lib.launch(pw, work);
  started.push({ close: () => context.close() });
  const page = context.pages()[0] || await context.newPage();

  await page.goto(url);
  await page.waitForSelector('#login');
  if ((await page.$('.criterion')) !== null) fail('the form shows before a login');
  await page.fill('#name', '王五');
  await page.fill('#password', 'not the passphrase');
  await page.click('#login-button');
  await page.waitForFunction(() => document.getElementById('login-error').textContent !== '', null, { timeout: 5000 });
  const refused = await page.textContent('#login-error');
  if (refused !== '操作员或密码错误') fail(`a wrong password shows "${refused}"`);
  await page.screenshot({ path: path.join(lib.SHOTS, 'login-1-refused.png'), fullPage: true });

  await page.fill('#password', 'a long passphrase');
  await page.click('#login-button');
  await page.waitForSelector('.criterion');
  await page.waitForSelector('#operator');
  const who = await page.textContent('#operator');
  if (!who.includes('王五')) fail(`the header shows "${who}"`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'shifan_session');
  if (!session || !session.httpOnly || session.sameSite !== 'Strict') fail(`the cookie: ${JSON.stringify(session)}`);
  if (await page.evaluate(() => document.cookie.includes('shifan_session'))) fail('the page script can read the session cookie');

  await page.fill('[data-comment]', '登录后保存');
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('draft-state').textContent.startsWith('草稿已保存'), null, { timeout: 5000 });
  await page.screenshot({ path: path.join(lib.SHOTS, 'login-2-saved.png'), fullPage: true });
  const trail = JSON.parse(lib.run('county-node', ['--data', dir, 'audit', '--json']));
  const saved = trail.filter((e) => e.operator === '王五' && e.action === 'county/draft');
  if (saved.length !== 1) fail(`the audit trail: ${JSON.stringify(trail)}`);

  await page.click('#logout');
  await page.waitForSelector('#login');
  county.kill('SIGTERM');
  await lib.exited(county);
  if (county.exitCode !== 0) fail(`county-node exited ${county.exitCode} on SIGTERM: ${fs.readFileSync(log, 'utf8').slice(-3000)}`);
  console.log(`ok: login refused then accepted, the draft saved by 王五 is in the audit trail, logout; screenshots in ${lib.SHOTS}`);
}

async function cleanup() {
  for (const item of started.reverse()) {
    if (item.close) { await item.close().catch(() => {}); continue; }
    if (item.exitCode === null && !item.signalCode) { item.kill('SIGTERM'); await lib.exited(item); }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
}

main().then(cleanup, async (error) => {
  console.error(`FAIL: ${error.message}`);
  await cleanup();
  process.exit(1);
});
