#!/usr/bin/env node
// Position writes against a real hub process (#15): N doctors on one hub, their phones reporting
// a fix every 10 s (N/10 requests per second, spread evenly), then as many as the hub takes
// (C concurrent senders for a while). Prints latency percentiles, throughput and the hub's memory.
//   node scripts/bench-positions.mjs [N=1300] [seconds=30] [C=32]
// Uses the binary in $CARGO_TARGET_DIR/debug unless CHEVET_BIN is set (a release build is faster).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const n = Number(process.argv[2] ?? 1300);
const seconds = Number(process.argv[3] ?? 30);
const concurrency = Number(process.argv[4] ?? 32);
const target = process.env.CARGO_TARGET_DIR ?? join(import.meta.dirname, '..', 'target');
const bin = process.env.CHEVET_BIN ?? join(target, 'debug', 'chevet');
const password = 'correct horse battery';

const mib = (pid, field) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field));
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
};
/** An RPPS number: 11 digits, the last a Luhn check digit. */
function rpps(i) {
  const body = `1${String(i).padStart(9, '0')}`;
  for (let c = 0; c < 10; c++) {
    const digits = (body + c).split('').map(Number).reverse();
    const sum = digits.reduce((s, d, k) => s + (k % 2 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
    if (sum % 10 === 0) return body + c;
  }
}
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

const dir = mkdtempSync(join(tmpdir(), 'chevet-positions-'));
const db = `sqlite://${join(dir, 'hub.db')}`;
const env = { ...process.env, CHEVET_LOG: 'warn' };
execFileSync(bin, ['user', 'add', '--db', db, '--username', 'admin', '--name', 'A', '--role', 'admin'], { input: `${password}\n`, env });
const hub = spawn(bin, ['serve', '--db', db, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((ok) => hub.stdout.once('data', (d) => ok(String(d).match(/http:\/\/\S+?(?=\/)/)[0])));
const login = async (username) => {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return (await r.json()).token;
};
const admin = await login('admin');
const call = (token, method, path, body) =>
  fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

// The association: N doctors (created a few at a time: each password is hashed), one dispatcher.
const doctors = [];
for (let i = 0; i < n; i += 4) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(4, n - i) }, (_, k) =>
      call(admin, 'POST', '/users', {
        username: `dr${i + k}`,
        password,
        display_name: `Dr ${i + k}`,
        role: 'doctor',
        doctor: { rpps: rpps(i + k), skills: [] },
      }).then((r) => r.json()),
    ),
  );
  doctors.push(...batch.map((d) => d.id));
}
await call(admin, 'POST', '/users', { username: 'desk', password, display_name: 'Desk', role: 'dispatcher' });
const desk = await login('desk');
const fix = (i, t) => ({ lat: 45.1 + ((i * 7919) % 1000) / 5000 + Math.sin(t) * 0.001, lon: 5.65 + ((i * 104729) % 1000) / 5000, accuracy_m: 12 });
const rssBefore = mib(hub.pid, 'VmRSS');

// 1. Every doctor every 10 s, spread evenly.
const rate = n / 10;
const latencies = [];
let failed = 0;
const start = performance.now();
const pending = [];
for (let k = 0; k < rate * seconds; k++) {
  const due = start + (k * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const i = k % n;
  const t0 = performance.now();
  pending.push(
    call(desk, 'PUT', `/doctors/${doctors[i]}/position`, fix(i, k)).then(
      async (r) => {
        await r.arrayBuffer();
        if (r.ok) latencies.push(performance.now() - t0);
        else failed++;
      },
      () => failed++,
    ),
  );
}
await Promise.all(pending);
latencies.sort((a, b) => a - b);
const steadyRss = mib(hub.pid, 'VmRSS');
console.log(`| steady: ${n} doctors, a fix each every 10 s (${rate} /s) for ${seconds} s | ${latencies.length} ok, ${failed} failed | p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms | RSS ${rssBefore} → ${steadyRss} MiB |`);

// 2. As many as the hub takes: C senders back to back for `seconds / 2`.
const burst = [];
let burstFailed = 0;
const until = performance.now() + (seconds / 2) * 1000;
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const i = next++ % n;
      const t0 = performance.now();
      try {
        const r = await call(desk, 'PUT', `/doctors/${doctors[i]}/position`, fix(i, next));
        await r.arrayBuffer();
        if (r.ok) burst.push(performance.now() - t0);
        else burstFailed++;
      } catch {
        burstFailed++;
      }
    }
  }),
);
burst.sort((a, b) => a - b);
console.log(`| saturation: ${concurrency} senders back to back for ${seconds / 2} s | ${(burst.length / (seconds / 2)).toFixed(0)} /s, ${burstFailed} failed | p50 ${pct(burst, 50).toFixed(1)} ms, p99 ${pct(burst, 99).toFixed(1)} ms | peak RSS ${mib(hub.pid, 'VmHWM')} MiB |`);
hub.kill('SIGTERM');
