/* Shared by the browser tests: skip without a browser, free ports, the
 * programs, a daemon with its console, Debian's headless chromium. */
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const BIN = process.env.BIN;
const SHOTS = process.env.SCREENSHOTS || path.join(BIN || '.', '..', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function skip(why) { console.log(`SKIP: ${why}`); process.exit(77); }
function fail(why) { throw new Error(why); }

function playwright() {
  let module;
  try { module = require('playwright-core'); } catch (e) { skip('playwright-core is not installed (scripts/setup.sh runs npm ci)'); }
  if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (scripts/setup.sh installs chromium)`);
  if (!BIN) fail('BIN (the build\'s bin/) is not set');
  return module;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

/* Runs a program to its end; its stdout. */
function run(program, args, input) {
  return execFileSync(path.join(BIN, program), args, { encoding: 'utf8', input });
}

function exited(child) {
  return new Promise((resolve) => { if (child.exitCode !== null || child.signalCode) resolve(); else child.on('exit', resolve); });
}

/* Starts `PROGRAM --data DIR run --http 127.0.0.1:PORT`, logging to LOG;
 * resolves once the console answers (any status: it may want a login). */
async function startDaemon(program, dir, port, log) {
  const out = fs.openSync(log, 'a');
  const child = spawn(path.join(BIN, program), ['--data', dir, 'run', '--http', `127.0.0.1:${port}`],
    { stdio: ['ignore', out, out] });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/api/session`);
      return child;
    } catch (e) { /* not listening yet */ }
    if (child.exitCode !== null) fail(`${program} exited ${child.exitCode}: ${fs.readFileSync(log, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  fail('the console did not answer within 10 s');
}

/* Debian's chromium, headless, with its own profile under work. */
function launch(pw, work) {
  return pw.chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM, headless: true, locale: 'zh-CN',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
}

module.exports = { BIN, SHOTS, skip, fail, playwright, freePort, run, exited, startDaemon, launch };
