// Starts `chevet demo` on a loopback port with the built UI, and a Debian Chromium driven by
// playwright-core (never a downloaded browser).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
export const artifacts = resolve(process.env.ARTIFACTS_DIR ?? join(root, 'ci-artifacts'), 'e2e');
mkdirSync(artifacts, { recursive: true });

function binary() {
  if (process.env.CHEVET_BIN) return process.env.CHEVET_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
  return join(target, 'debug', 'chevet');
}

/** Starts the demo hub (with more `args`, e.g. --smtp-url); resolves with { url, stop }. */
export function startDemo(args = []) {
  return startHub(['demo', '--listen', '127.0.0.1:0', ...args]);
}

/** Whether `chevet demo` takes `--smtp-url` (a relay for the letters to treating physicians). */
export function demoTakesSmtp() {
  return new Promise((ok) => execFile(binary(), ['demo', '--help'], (err, stdout) => ok(!err && stdout.includes('--smtp-url'))));
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

function accepts(port) {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), ok(true)));
    socket.once('error', () => ok(false));
  });
}

/**
 * A mail server on loopback standing for the MSSanté relay: Python's aiosmtpd, which writes each
 * message it receives into a Maildir. Resolves with { url, messages(), stop }, or null when
 * aiosmtpd is not installed (scripts/setup installs it).
 */
export async function startSmtp() {
  // The Python that has aiosmtpd: scripts/setup's virtualenv, or CHEVET_SMTP_PYTHON (as the hub's tests).
  const venv = join(process.env.HOME ?? '', '.cache', 'chevet', 'smtp-venv', 'bin', 'python3');
  const python = process.env.CHEVET_SMTP_PYTHON ?? (existsSync(venv) ? venv : 'python3');
  const port = await freePort();
  const maildir = join(mkdtempSync(join(tmpdir(), 'chevet-smtp-')), 'mail');
  const child = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  for (let i = 0; i < 100 && !exited; i++) {
    if (await accepts(port)) {
      return {
        url: `smtp://127.0.0.1:${port}`,
        /** The messages received so far (file names in the Maildir). */
        messages: () => {
          try {
            return readdirSync(join(maildir, 'new'));
          } catch {
            return [];
          }
        },
        maildir,
        stop: () =>
          new Promise((done) => {
            if (exited) return done();
            child.once('exit', done);
            child.kill('SIGTERM');
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return null;
}

/** Logs in through the API; resolves with a fetch bound to the session token. */
export async function apiAs(url, username, password = 'demo') {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`login ${username}: ${r.status}`);
  const { token } = await r.json();
  return async (method, path, body) => {
    const resp = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await resp.json().catch(() => null);
    if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Runs `chevet ARGS...` once to completion, with `input` on stdin. */
export function runChevet(args, input = '') {
  return new Promise((ok, fail) => {
    const child = spawn(binary(), args, { stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`chevet ${args[0]} exited ${code}`))));
    child.stdin.end(input);
  });
}

/** Starts `chevet ARGS...` (a hub); resolves with { url, stop } once it listens. */
export function startHub(args) {
  return new Promise((ok, fail) => {
    const child = spawn(binary(), args, {
      env: { ...process.env, CHEVET_UI_DIR: join(root, 'ui', 'dist'), CHEVET_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('error', fail);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const url = line.split(/\s+/).find((w) => w.startsWith('http://'))?.replace(/\/$/, '');
      if (!url) return fail(new Error(`no URL in ${line}`));
      ok({
        url,
        stop: () =>
          new Promise((done) => {
            child.once('exit', done);
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--lang=fr-FR'],
  });
}

/** A person at their screen: a fresh browser context, logged in. */
export async function seat(browser, url, username, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  // No map tiles in tests: the map must draw without them.
  await context.addInitScript(() => localStorage.setItem('chevet.tiles', ''));
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(url);
  await page.getByLabel('Identifiant').fill(username);
  await page.getByLabel('Mot de passe').fill('demo');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByTestId('who').waitFor();
  return page;
}

export async function shot(page, name) {
  await page.waitForTimeout(150); // let the last repaint land
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/** Fills the dispatcher's intake form: keys are the French labels' fields. */
export async function fillCall(form, fields) {
  const labels = {
    birth_name: 'Nom de naissance',
    first_names: 'Prénoms',
    birth_date: 'Né(e) le',
    line: 'Adresse (numéro, rue)',
    postcode: 'Code postal',
    city: 'Commune',
    lat: 'Latitude',
    lon: 'Longitude',
    motive: 'Motif',
  };
  for (const [key, value] of Object.entries(fields)) await form.getByLabel(labels[key]).fill(value);
}
