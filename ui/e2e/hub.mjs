// Starts `chevet demo` on a loopback port with the built UI, and a Debian Chromium driven by
// playwright-core (never a downloaded browser).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

/** Starts the demo hub; resolves with { url, stop }. */
export function startDemo() {
  return startHub(['demo', '--listen', '127.0.0.1:0']);
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
