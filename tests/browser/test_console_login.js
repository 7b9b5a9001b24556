#!/usr/bin/env node
/* Logging in to the county's console in a real browser, once the node has
 * an operator account (docs/console.md, "Access"): the page opens on the
 * login form, a wrong password is refused with a message, the right one
 * opens the form, a draft saved through the page (so with the CSRF token
 * console.js sends) lands in the audit trail under the operator's name,
 * and logging out brings the login back. Exit 77: no browser here. */
'use strict';

const path = require('path');
const lib = require('./lib');

const { fail } = lib;

async function main() {
  lib.workDir();
  const [dir] = await lib.initCounties('530102');
  lib.runWithInput('a long passphrase\n', 'county-node', '--data', dir, 'operator', 'add', '--name', '王五');
  const port = await lib.freePort();
  const county = await lib.startCounty(dir, port);
  const context = await lib.launch();
  const page = context.pages()[0] || await context.newPage();

  await page.goto(`http://127.0.0.1:${port}/`);
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
  const session = (await context.cookies()).find((c) => c.name === 'shifan_session');
  if (!session || !session.httpOnly || session.sameSite !== 'Strict') fail(`the cookie: ${JSON.stringify(session)}`);
  if (await page.evaluate(() => document.cookie.includes('shifan_session'))) fail('the page script can read the session cookie');

  await page.fill('[data-comment]', '登录后保存');
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('draft-state').textContent.startsWith('草稿已保存'), null, { timeout: 5000 });
  await page.screenshot({ path: path.join(lib.SHOTS, 'login-2-saved.png'), fullPage: true });
  const trail = JSON.parse(lib.run('county-node', '--data', dir, 'audit', '--json'));
  const saved = trail.filter((e) => e.operator === '王五' && e.action === 'county/draft');
  if (saved.length !== 1) fail(`the audit trail: ${JSON.stringify(trail)}`);

  await page.click('#logout');
  await page.waitForSelector('#login');
  await lib.stopCleanly(county);
  console.log(`ok: login refused then accepted, the draft saved by 王五 is in the audit trail, logout; screenshots in ${lib.SHOTS}`);
}

lib.runTest(main);
