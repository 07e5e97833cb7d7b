'use strict';
// `rust-cluster top`: a live view, on a terminal (a pty from script(1), 80x24)
// and on a pipe; q quits; the primary going away ends it with 1.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { FIXTURES, CLI, runtimeDir, startProcess, startCli, get } = require('./helpers');

function hasScript() {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// What a terminal shows: escape sequences removed, one entry per line.
function screenLines(text) {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n').split(/\r?\n/).map((l) => l.replace(/\r/g, ''));
}

test('top on an 80x24 terminal: workers and connections/s within 80 columns; q quits', { skip: !hasScript() && 'needs script(1)' }, async (t) => {
  const env = { XDG_RUNTIME_DIR: runtimeDir() };
  const p = await startCli(['-w', '2'], path.join(FIXTURES, 'app.js'), ['0'], { env });
  t.after(() => p.kill());
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr())[1]);
  const command = `stty cols 80 rows 24; exec ${process.execPath} ${CLI} top --interval 200`;
  const view = startProcess(['-e', `require('child_process').spawn('script', ['-qfec', ${JSON.stringify(command)}, '/dev/null'], { stdio: 'inherit' }).on('exit', (c) => process.exit(c))`], { env });
  t.after(() => view.kill());
  await view.waitOut(/ID\s+PID\s+STATE\s+UPTIME\s+CONN\/S\s+OPEN\s+RSS\s+CPU%\s+RESTARTS/);
  // Some traffic, to be counted as connections per second.
  for (let i = 0; i < 40; i++) await get(port);
  await view.waitOut(/conn\/s [1-9][\d.]*/);
  view.child.stdin.write('q');
  const { code, stdout } = await view.closed;
  assert.equal(code, 0);
  assert.match(stdout, /\x1b\[\?1049h/, 'draws on the alternate screen');
  assert.match(stdout, /\x1b\[\?1049l/, 'and leaves it');
  for (const line of screenLines(stdout)) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
  p.child.kill('SIGTERM');
  await p.closed;
});

test('top on a pipe prints frames; q on stdin quits; a primary that goes away ends it with 1', async (t) => {
  const env = { XDG_RUNTIME_DIR: runtimeDir() };
  const p = await startCli(['-w', '1'], path.join(FIXTURES, 'app.js'), ['0'], { env, workers: 1 });
  t.after(() => p.kill());
  const a = startProcess([CLI, 'top', '--interval', '100'], { env });
  t.after(() => a.kill());
  await a.waitOut(/(ID\s+PID[^]*){2}/);
  a.child.stdin.write('q\n');
  assert.equal((await a.closed).code, 0);

  const b = startProcess([CLI, 'top', '--interval', '100'], { env });
  t.after(() => b.kill());
  await b.waitOut(/ID\s+PID/);
  p.child.kill('SIGTERM');
  const r = await b.closed;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rust-cluster top: /);
  await p.closed;
});
