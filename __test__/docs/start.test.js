'use strict';
// `npm start`'s server (examples/http-server.js): it serves, and Ctrl-C or
// a signal to its process group (as `timeout npm start` sends) stops it
// cleanly, even when the workers die of the signal before the primary's
// disconnect reaches them. Several times each, as that is a race.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const EXAMPLE = path.join(__dirname, '../../examples/http-server.js');
const ROUNDS = 6;

function get(port) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function startAndStop(signal) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXAMPLE], {
      env: { ...process.env, PORT: '0', WORKERS: '2' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      reject(new Error(`no clean stop after ${signal}\n${stdout}\n${stderr}`));
    }, 20000);
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.stdout.setEncoding('utf8').on('data', async (d) => {
      stdout += d;
      const ports = [...stdout.matchAll(/listening on (\d+)/g)].map((m) => Number(m[1]));
      if (signalled || ports.length < 2) return;
      signalled = true;
      try {
        assert.match(await get(ports[0]), /^hello from worker \d+ \(pid \d+\)\n$/);
      } catch (err) {
        reject(err);
      }
      process.kill(-child.pid, signal);
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  test(`npm start's server serves, and ${signal} to its process group stops it cleanly`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await startAndStop(signal);
      assert.deepEqual({ code: r.code, signal: r.signal, stderr: r.stderr }, { code: 0, signal: null, stderr: '' },
        r.stdout);
    }
  });
}
