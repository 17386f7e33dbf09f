#!/usr/bin/env node
// A login flood against a real hub process: N wrong passwords at once, the hub's memory before,
// at its peak and after, and what the flooder got back. Run once with the default cap on
// password checks and once with the cap lifted (CHEVET_LOGIN_CHECKS=1000), as before #14.
//   node scripts/bench-login-flood.mjs [N=150]
// Uses the binary in $CARGO_TARGET_DIR/debug (argon2 is optimised in debug builds too, and its
// memory cost is the same as in release).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const n = Number(process.argv[2] ?? 150);
const target = process.env.CARGO_TARGET_DIR ?? join(import.meta.dirname, '..', 'target');
const bin = join(target, 'debug', 'chevet');

const mib = (pid, field) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field));
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
};

async function run(label, checks) {
  const dir = mkdtempSync(join(tmpdir(), 'chevet-flood-'));
  const db = `sqlite://${join(dir, 'hub.db')}`;
  execFileSync(bin, ['user', 'add', '--db', db, '--username', 'dispatcher', '--name', 'D', '--role', 'dispatcher'], {
    input: 'correct horse battery\n',
    env: { ...process.env, CHEVET_LOG: 'warn' },
  });
  const env = { ...process.env, CHEVET_LOG: 'warn' };
  if (checks) env.CHEVET_LOGIN_CHECKS = String(checks);
  const hub = spawn(bin, ['serve', '--db', db, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((ok) => hub.stdout.once('data', (d) => ok(String(d).match(/http:\/\/\S+?(?=\/)/)[0])));
  await fetch(`${url}/api/v1/health`);
  const before = mib(hub.pid, 'VmRSS');
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: i % 2 ? 'dispatcher' : `nobody${i}`, password: 'guess-guess' }),
      }).then((r) => r.status, () => 'error'),
    ),
  );
  const took = ((performance.now() - started) / 1000).toFixed(1);
  const peak = mib(hub.pid, 'VmHWM');
  const after = mib(hub.pid, 'VmRSS');
  const right = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'dispatcher', password: 'correct horse battery' }),
  });
  hub.kill('SIGTERM');
  const count = (s) => statuses.filter((x) => x === s).length;
  console.log(
    `| ${label} | ${n} | ${before} | ${peak} | ${after} | ${count(401)} / ${count(429)} / ${statuses.length - count(401) - count(429)} | ${took} s | ${right.status} |`,
  );
}

console.log('| password checks at once | logins | RSS before (MiB) | peak RSS (MiB) | RSS after (MiB) | 401 / 429 / other | flood took | right password just after |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
await run('capped (default)', null);
await run('uncapped (CHEVET_LOGIN_CHECKS=1000, as before)', 1000);
