/* What the console's browser tests share: Debian's chromium driven by
 * playwright-core (skipped, exit 77, when either is missing), free ports,
 * the processes a test started (stopped by PID at the end) and its temp
 * dir. Not a test itself (ctest runs tests/browser/test_*.js). */
'use strict';

const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const BIN = process.env.BIN;
const SHOTS = process.env.SCREENSHOTS || path.join(BIN || '.', '..', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const started = []; /* child processes and browser contexts, stopped in reverse */

function skip(why) { console.log(`SKIP: ${why}`); process.exit(77); }
function fail(why) { throw new Error(why); }

let playwright;
try { playwright = require('playwright-core'); } catch (e) { skip('playwright-core is not installed (scripts/setup.sh runs npm ci)'); }
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (scripts/setup.sh installs chromium)`);
if (!BIN) fail('BIN (the build\'s bin/) is not set');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

function killed(child) {
  return new Promise((resolve) => { if (child.exitCode !== null || child.signalCode) resolve(); else child.on('exit', resolve); });
}

/* A temp dir for the test's nodes, and the screenshots folder. */
function workDir(prefix) {
  fs.mkdirSync(SHOTS, { recursive: true });
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/* Chromium on a profile in work, Chinese locale; the page notes in
 * page.external every request that leaves the console at url. */
async function openPage(work, url, viewport) {
  const context = await playwright.chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM, headless: true, locale: 'zh-CN',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
  });
  started.push({ close: () => context.close() });
  const page = context.pages()[0] || await context.newPage();
  page.external = [];
  page.on('request', (request) => { if (!request.url().startsWith(url)) page.external.push(request.url()); });
  return page;
}

/* Stops what the test started (SIGTERM, by PID), removes work. */
async function cleanup(work) {
  for (const item of started.reverse()) {
    if (item.close) { await item.close().catch(() => {}); continue; }
    if (item.exitCode === null && !item.signalCode) { item.kill('SIGTERM'); await killed(item); }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
}

module.exports = { BIN, SHOTS, started, fail, freePort, killed, workDir, openPage, cleanup };
