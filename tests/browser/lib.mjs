// Helpers of the browser journeys: a headless Chromium (Debian's, never a download),
// logins with the demo accounts (second factor computed here), and `checkPage`, the
// checks every main page must pass: accessibility (axe-core), reflow at 320 px, and a
// screenshot for people to look at.

import { createHash, createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { chromium } from 'playwright-core';

/** Debian's Chromium; SISERI_CHROMIUM names another build. */
export const CHROMIUM = process.env.SISERI_CHROMIUM || '/usr/bin/chromium';
/** Where `checkPage` saves its screenshots (relative to the working directory). */
export const SCREENSHOTS_DIR = process.env.SISERI_SCREENSHOTS || 'target/browser-screenshots';
/** The desktop viewport of the screenshots. */
export const DESKTOP = { width: 1280, height: 900 };
/** WCAG 2.1 reflow (1.4.10): usable at 320 CSS pixels wide without horizontal scrolling. */
export const NARROW_WIDTH = 320;
/** The pseudo rule id that `checkPage(..., { allow })` accepts for the 320 px check. */
export const REFLOW = 'reflow-320';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);
// Script errors are only printed for now: every page has one, DSFR's header script
// expects the mobile menu (.fr-header__menu-links) that base.html lacks.
// TODO pages: fix the header, then make script errors fail here.
const SCRIPT_ERRORS_FAIL = true;

export async function launch() {
  // Chromium's sandbox refuses to run as root (CI and these machines run as root).
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
  });
}

/**
 * A page in a fresh context (own cookies) whose relative URLs resolve against `base`.
 * bypassCSP: the server's Content-Security-Policy forbids inline scripts, and axe-core
 * is injected as one.
 */
export async function newPage(browser, base) {
  const context = await browser.newContext({
    baseURL: base,
    bypassCSP: true,
    viewport: DESKTOP,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  // A step that cannot happen should fail in seconds, not hang the test run.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  // Script errors are bugs of the pages: `checkPage` reports them.
  page.siseriErrors = [];
  page.on('pageerror', (e) => page.siseriErrors.push(e.stack ?? String(e)));
  return page;
}

// ---------------------------------------------------------------------------------
// Demo accounts (crates/siseri/src/demo.rs) and their second factor.

/** The demo logins whose role needs a second factor (Role::requires_second_factor). */
export const SECOND_FACTOR_LOGINS = new Set(['admin', 'mdt', 'infirmier', 'medecin.designe', 'crp', 'inspecteur']);

/** `demo_password` of demo.rs. */
export function demoPassword(login) {
  return `siseri-demo-${login}`;
}

/** `demo_totp_secret` of demo.rs: base32 (RFC 4648, no padding) of SHA-256's first 20 bytes. */
export function demoTotpSecret(login) {
  const digest = createHash('sha256').update(`siseri-demo-totp-${login}`).digest();
  return base32Encode(digest.subarray(0, 20));
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Encode(bytes) {
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) {
    out += BASE32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  }
  return out;
}

function base32Decode(text) {
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = BASE32.indexOf(c);
    if (v < 0) throw new Error(`TOTP secret: invalid base32 character ${JSON.stringify(c)}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps) of time step `step`. */
export function totpCode(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

// The server accepts each time step once per account (replay protection): remember the
// last step used for each login so that a second login within 30 s waits for the next.
const lastStep = new Map();

async function freshTotpCode(login, secret) {
  for (;;) {
    const now = Date.now();
    const step = Math.floor(now / 30_000);
    if (step > (lastStep.get(login) ?? -1)) {
      lastStep.set(login, step);
      return totpCode(secret, step);
    }
    await new Promise((r) => setTimeout(r, (step + 1) * 30_000 - now + 200));
  }
}

/**
 * Logs in through the form at /connexion, then the second-factor page when the server
 * asks for it; ends on /compte or throws with the page's error message.
 */
export async function login(page, base, loginName, password, totpSecret) {
  await page.goto(new URL('/connexion', base).href);
  await page.locator('#login').fill(loginName);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Se connecter' }).click()]);
  if (new URL(page.url()).pathname === '/connexion/second-facteur') {
    if (!totpSecret) throw new Error(`login ${loginName}: a second factor is asked but no TOTP secret was given`);
    await page.locator('#code').fill(await freshTotpCode(loginName, totpSecret));
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Valider' }).click()]);
  }
  const at = new URL(page.url()).pathname;
  if (at !== '/compte') {
    const alert = await page.locator('.fr-alert--error').allInnerTexts();
    throw new Error(`login ${loginName}: ended on ${at} instead of /compte${alert.length ? `: ${alert.join(' ')}` : ''}`);
  }
}

/** Logs in as a demo account (its public password, and its TOTP secret if its role needs one). */
export async function loginAs(page, base, loginName) {
  const secret = SECOND_FACTOR_LOGINS.has(loginName) ? demoTotpSecret(loginName) : undefined;
  await login(page, base, loginName, demoPassword(loginName), secret);
}

/** Logs out with the button of the account page; ends on the home page. */
export async function logout(page, base) {
  if (new URL(page.url()).pathname !== '/compte') await page.goto(new URL('/compte', base).href);
  await Promise.all([page.waitForNavigation(), page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click()]);
}

// ---------------------------------------------------------------------------------
// checkPage

/**
 * Checks the page as it is now, and saves `${SCREENSHOTS_DIR}/${name}.png`:
 * - axe-core (WCAG 2.0/2.1 A and AA): any `serious` or `critical` violation fails;
 * - at 320 px wide the document must not scroll horizontally (WCAG 1.4.10, reflow);
 * - script errors since the page was opened are reported (see SCRIPT_ERRORS_FAIL).
 * `allow` lists rule ids (or REFLOW) tolerated on this page, each a known bug to fix.
 * Every problem is gathered and the screenshot taken before throwing, to see them all.
 */
export async function checkPage(page, name, { allow = [] } = {}) {
  const problems = [];
  const notes = [];

  // (a) Accessibility.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(
    (tags) =>
      window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }).then((r) =>
        r.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          helpUrl: v.helpUrl,
          nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
        })),
      ),
    AXE_TAGS,
  );
  for (const v of violations) {
    const blocking = BLOCKING_IMPACTS.has(v.impact);
    if (blocking && !allow.includes(v.id)) {
      problems.push(formatViolation(v));
    } else {
      notes.push(`axe ${v.impact}${blocking ? ' (allowed)' : ''}: ${v.id} — ${v.help} (${v.nodes.length} element(s))`);
    }
  }
  for (const id of allow) {
    if (id !== REFLOW && !violations.some((v) => v.id === id)) {
      notes.push(`allow: ${id} is no longer violated on ${name}, remove it from the journey`);
    }
  }

  // (b) Reflow at 320 px.
  await page.setViewportSize({ width: NARROW_WIDTH, height: DESKTOP.height });
  const reflow = await page.evaluate(narrowOverflow, NARROW_WIDTH);
  await page.setViewportSize(DESKTOP);
  if (reflow.scrollWidth > NARROW_WIDTH + 1) {
    const lines = reflow.culprits.map((c) => `    ${c.selector} — right edge ${c.right}px, width ${c.width}px${c.text ? `: "${c.text}"` : ''}`);
    const message = `reflow-320: at ${NARROW_WIDTH}px the document is ${reflow.scrollWidth}px wide (horizontal scroll); widest elements:\n${lines.join('\n')}`;
    if (allow.includes(REFLOW)) notes.push(`(allowed) ${message}`);
    else problems.push(message);
  } else if (allow.includes(REFLOW)) {
    notes.push(`allow: ${REFLOW} is no longer needed on ${name}, remove it from the journey`);
  }

  // Script errors (each reported once: the list is emptied).
  for (const e of (page.siseriErrors ?? []).splice(0)) {
    (SCRIPT_ERRORS_FAIL ? problems : notes).push(`script error: ${e.split('\n').slice(0, 3).join('\n      ')}`);
  }

  // (c) Screenshot, at the desktop width.
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });

  for (const n of notes) console.log(`  [${name}] ${n}`);
  if (problems.length > 0) {
    throw new Error(`checkPage ${name} (${page.url()}): ${problems.length} problem(s)\n\n${problems.join('\n\n')}\n\nscreenshot: ${file}`);
  }
  console.log(`  ✓ ${name}: axe without serious/critical violation, no horizontal scroll at ${NARROW_WIDTH}px → ${file}`);
}

function formatViolation(v) {
  const nodes = v.nodes
    .slice(0, 10)
    .map((n) => `    at ${n.target}\n      ${n.html.replace(/\s+/g, ' ').slice(0, 200)}\n      ${(n.summary ?? '').replace(/\n/g, '\n      ')}`);
  const more = v.nodes.length > 10 ? `\n    … and ${v.nodes.length - 10} more` : '';
  return `axe ${v.impact}: ${v.id} — ${v.help}\n    ${v.helpUrl}\n${nodes.join('\n')}${more}`;
}

// Runs in the page: the document's width, and the innermost elements sticking out past
// the viewport (an element whose children stick out is a container, not the cause).
function narrowOverflow(width) {
  const limit = width + 1;
  const out = [...document.body.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > limit);
  const outSet = new Set(out);
  const culprits = out
    .filter((el) => ![...el.children].some((c) => outSet.has(c)))
    .map((el) => {
      const r = el.getBoundingClientRect();
      const cls = typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      return {
        selector: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${cls}`,
        right: Math.round(r.right),
        width: Math.round(r.width),
        text: (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 60),
      };
    })
    .sort((a, b) => b.right - a.right)
    .slice(0, 8);
  return { scrollWidth: document.documentElement.scrollWidth, culprits };
}
