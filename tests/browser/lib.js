/* What the browser tests share: the build's programs, free ports, county
 * daemons with their console, Debian's chromium through playwright-core,
 * and cleaning up what was started. Not a test itself (ctest runs
 * test_*.js). Exit 77 (skipped) when chromium or playwright-core is absent. */
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const BIN = process.env.BIN;
const SHOTS = process.env.SCREENSHOTS || path.join(BIN || '.', '..', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const started = [];
let work = null;

function skip(why) { console.log(`SKIP: ${why}`); process.exit(77); }
function fail(why) { throw new Error(why); }

let playwright;
try { playwright = require('playwright-core'); } catch (e) { skip('playwright-core is not installed (scripts/setup.sh runs npm ci)'); }
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (scripts/setup.sh installs chromium)`);
if (!BIN) fail('BIN (the build\'s bin/) is not set');

/* A temporary folder for the test's data dirs (named from prefix), removed
 * by cleanup(). */
function workDir(prefix = 'shifan-browser-') {
  work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.mkdirSync(SHOTS, { recursive: true });
  return work;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

function run(program, ...args) {
  return execFileSync(path.join(BIN, program), args, { encoding: 'utf8' });
}

/* run, with input on the program's stdin (a password, say). */
function runWithInput(input, program, ...args) {
  return execFileSync(path.join(BIN, program), args, { encoding: 'utf8', input });
}

/* A province (only its key: counties need a parent to be initialised) and
 * county data dirs for codes, in work; returns their paths. */
async function initCounties(...codes) {
  const upstreamPort = await freePort();
  const key = run('province-core', '--data', path.join(work, 'province'), 'init', '--listen',
    `tcp://127.0.0.1:${upstreamPort}`).match(/public key: (\S+)/)[1];
  return codes.map((code, i) => {
    const dir = path.join(work, `county-${i}-${code}`);
    run('county-node', '--data', dir, 'init', '--code', code, '--upstream', `tcp://127.0.0.1:${upstreamPort}`,
      '--upstream-key', key);
    return dir;
  });
}

/* Starts a county daemon with its console; resolves when it answers. Its
 * log is DIR.log. */
async function startCounty(dir, port) {
  const logName = `${dir}.log`;
  const log = fs.openSync(logName, 'a');
  const child = spawn(path.join(BIN, 'county-node'), ['--data', dir, 'run', '--http', `127.0.0.1:${port}`],
    { stdio: ['ignore', log, log] });
  child.logName = logName;
  started.push(child);
  for (let i = 0; i < 100; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/session`); /* open with or without a login */
      if (response.ok) return child;
    } catch (e) { /* not listening yet */ }
    if (child.exitCode !== null) fail(`county-node exited ${child.exitCode}: ${fs.readFileSync(logName, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  fail('the console did not answer within 10 s');
}

function killed(child) {
  return new Promise((resolve) => { if (child.exitCode !== null || child.signalCode) resolve(); else child.on('exit', resolve); });
}

/* SIGTERM, and a clean exit 0 (under ASan: nothing the console served leaked). */
async function stopCleanly(child) {
  child.kill('SIGTERM');
  await killed(child);
  if (child.exitCode !== 0) fail(`county-node exited ${child.exitCode} on SIGTERM: ${fs.readFileSync(child.logName, 'utf8').slice(-3000)}`);
}

/* Headless chromium with its profile in work; closed by cleanup(). */
async function launch(viewport = { width: 1280, height: 900 }) {
  const context = await playwright.chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM, headless: true, locale: 'zh-CN', acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
  });
  started.push({ close: () => context.close() });
  return context;
}

/* A page of a new browser (launch); page.external notes every request that
 * leaves the console at url (there must be none). */
async function openPage(url, viewport) {
  const context = await launch(viewport);
  const page = context.pages()[0] || await context.newPage();
  page.external = [];
  page.on('request', (request) => { if (!request.url().startsWith(url)) page.external.push(request.url()); });
  return page;
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

async function cleanup() {
  for (const item of started.reverse()) {
    if (item.close) { await item.close().catch(() => {}); continue; }
    if (item.exitCode === null && !item.signalCode) { item.kill('SIGTERM'); await killed(item); }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
}

/* Runs main, cleans up, and exits 1 with the failure's message. */
function runTest(main) {
  main().then(cleanup, async (error) => {
    console.error(`FAIL: ${error.message}`);
    await cleanup();
    process.exit(1);
  });
}

module.exports = { BIN, SHOTS, started, fail, workDir, freePort, run, runWithInput, initCounties, startCounty, killed, stopCleanly, launch, openPage, cleanup,
  fillPassing, verdictIs, runTest };
