// Runs one browser journey against a running siseri server:
//   node tests/browser/run.mjs --base http://127.0.0.1:PORT --journey NAME
// imports journeys/NAME.mjs and calls its default export with a context (below).
// Exit status: 0 success, 1 the journey failed (message, and a screenshot
// failure-NAME.png of the last page opened), 2 bad usage.

import { parseArgs } from 'node:util';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';

// A journey that hangs (a selector never found after many steps) must still end.
const TIMEOUT_MS = Number(process.env.SISERI_JOURNEY_TIMEOUT_MS || 300_000);

function usage(message) {
  console.error(`run.mjs: ${message}\nusage: node tests/browser/run.mjs --base http://127.0.0.1:PORT --journey NAME`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { base: { type: 'string' }, journey: { type: 'string' } } }).values;
} catch (e) {
  usage(e.message);
}
if (!args.base || !args.journey) usage('--base and --journey are required');
// Journey names are file names: keep them to plain words, no path.
if (!/^[a-z0-9_-]+$/.test(args.journey)) usage(`invalid journey name ${JSON.stringify(args.journey)}`);
const base = args.base.replace(/\/+$/, '');
const name = args.journey;
const file = new URL(`./journeys/${name}.mjs`, import.meta.url);
if (!existsSync(file)) usage(`no journey file tests/browser/journeys/${name}.mjs`);
if (!existsSync(lib.CHROMIUM)) {
  console.error(`run.mjs: no Chromium at ${lib.CHROMIUM}: run scripts/test.sh, or apt-get install -y chromium chromium-driver`);
  process.exit(1);
}

const browser = await lib.launch();
const pages = [];
// What a journey gets: everything already bound to this server and this browser.
const ctx = {
  base,
  browser,
  /** A new page in its own context (own cookies: one user), relative URLs against base. */
  newPage: async () => {
    const page = await lib.newPage(browser, base);
    pages.push(page);
    return page;
  },
  login: (page, login, password, totpSecret) => lib.login(page, base, login, password, totpSecret),
  loginAs: (page, login) => lib.loginAs(page, base, login),
  logout: (page) => lib.logout(page, base),
  checkPage: lib.checkPage,
  REFLOW: lib.REFLOW,
  demoPassword: lib.demoPassword,
  demoTotpSecret: lib.demoTotpSecret,
};

const started = Date.now();
let timer;
let status = 0;
try {
  const journey = (await import(file.href)).default;
  if (typeof journey !== 'function') throw new Error(`journeys/${name}.mjs has no default export function`);
  console.log(`journey ${name} on ${base}`);
  await Promise.race([
    journey(ctx),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    }),
  ]);
  console.log(`journey ${name}: OK in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  status = 1;
  console.error(`journey ${name}: FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.error(e?.stack ?? String(e));
  const last = pages.filter((p) => !p.isClosed()).at(-1);
  if (last) {
    try {
      mkdirSync(lib.SCREENSHOTS_DIR, { recursive: true });
      const shot = path.join(lib.SCREENSHOTS_DIR, `failure-${name}.png`);
      await last.screenshot({ path: shot, fullPage: true });
      console.error(`last page: ${last.url()}\nscreenshot: ${shot}`);
    } catch (shotError) {
      console.error(`(no failure screenshot: ${shotError.message})`);
    }
  }
} finally {
  clearTimeout(timer);
  await browser.close().catch(() => {});
}
process.exit(status);
