// Desktop smoke test: the real Tauri app in a real window (under Xvfb), driven by WebKitWebDriver
// over plain WebDriver HTTP. It starts the app on a demo store, checks the window shows the login
// screen, logs in, takes a screenshot, and checks the app quits cleanly.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const app = process.env.CHEVET_DESKTOP_BIN ?? join(target, 'debug', 'chevet-desktop');
const artifacts = resolve(process.env.ARTIFACTS_DIR ?? join(root, 'ci-artifacts'), 'desktop');
mkdirSync(artifacts, { recursive: true });
const data = mkdtempSync(join(tmpdir(), 'chevet-desktop-'));

const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let xvfb, driver, base, session;
const children = [];

async function wd(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json.value;
}

/** Polls until `f` returns a truthy value (DOM text appears after repaints, not at once). */
async function until(f, what, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

const find = async (css) => (await wd('POST', `/session/${session}/element`, { using: 'css selector', value: css }))['element-6066-11e4-a52e-4f735466cecf'];
const text = async (css) => wd('GET', `/session/${session}/element/${await find(css)}/text`);

const appRunning = () => {
  try {
    return execFileSync('pgrep', ['-f', data]).toString().trim().length > 0;
  } catch {
    return false;
  }
};

before(async () => {
  let display = process.env.DISPLAY;
  if (!display) {
    display = `:${90 + Math.floor(Math.random() * 9)}`;
    xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    children.push(xvfb);
    await sleep(800);
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  driver = spawn('WebKitWebDriver', [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, DISPLAY: display, TAURI_WEBVIEW_AUTOMATION: 'true' },
    stdio: 'ignore',
  });
  children.push(driver);
  await until(() => fetch(`${base}/status`).then((r) => r.ok), 'WebKitWebDriver');
});

after(async () => {
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  for (const c of children.reverse()) c.kill('SIGTERM');
});

test('the desktop app opens on the login screen, logs in, and quits cleanly', async () => {
  const created = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: { 'webkitgtk:browserOptions': { binary: app, args: ['--demo', '--data', data] } },
    },
  });
  session = created.sessionId;

  // The embedded hub serves the UI to this window only (per-launch secret), at the login screen.
  await until(async () => (await text('button[type=submit]')) === 'Se connecter', 'the login screen');
  assert.equal(await text('h1'), 'Chevet');
  const url = await wd('GET', `/session/${session}/url`);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'the secret is not left in the address');

  // A stranger on the same machine is refused by the embedded hub.
  const stranger = await fetch(new URL('/api/v1/health', url));
  assert.equal(stranger.status, 403);

  // Log in as the demo dispatcher.
  await wd('POST', `/session/${session}/element/${await find('input[autocomplete=username]')}/value`, { text: 'dispatcher' });
  await wd('POST', `/session/${session}/element/${await find('input[type=password]')}/value`, { text: 'demo' });
  await wd('POST', `/session/${session}/element/${await find('button[type=submit]')}/click`, {});
  await until(async () => (await text('[data-testid=who]')).includes('Standard'), 'the dispatcher board');
  await until(async () => (await wd('POST', `/session/${session}/elements`, { using: 'css selector', value: 'li.visit' })).length > 5, 'the queue');
  const png = await wd('GET', `/session/${session}/screenshot`);
  writeFileSync(join(artifacts, 'desktop-board.png'), Buffer.from(png, 'base64'));

  // Closing the session closes the window; the app and its hub exit.
  assert.ok(appRunning(), 'the app runs');
  await wd('DELETE', `/session/${session}`);
  session = undefined;
  await until(() => !appRunning(), 'the app to exit', 15_000);
});
