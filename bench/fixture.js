'use strict';
// The harness's side of one fixture process (bench/server.js): spawns it for
// a contender, reads its JSON-line events, sends it commands, stops it and
// its workers. Also the registry of every child the harness started, so that
// none outlives it.
const { spawn } = require('node:child_process');
const path = require('node:path');

const SERVER = path.join(__dirname, 'server.js');

const children = new Set();

function killChild(child) {
  for (const pid of child.extraPids || []) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  try { child.kill('SIGKILL'); } catch { /* gone */ }
}

function killChildren() {
  for (const child of children) killChild(child);
}

/** Spawn a child that killChildren() will end; returns the ChildProcess. */
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** [cmd, args] run on the given CPUs (a taskset list), or as is when null. */
function withPin(cpus, cmd, args) {
  if (cpus == null) return [cmd, args];
  return ['taskset', ['-c', cpus, cmd, ...args]];
}

class Fixture {
  /**
   * @param contender  a row of bench/contenders.js
   * @param env        the fixture's settings (BENCH_MODE ...)
   * @param pinCpus    taskset CPU list for primary and workers, or null
   * @param runtime    executable to run server.js with (node or bun)
   */
  constructor(contender, env, pinCpus, runtime) {
    this.contender = contender;
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    const [cmd, args] = withPin(pinCpus, runtime, [SERVER]);
    this.child = track(spawn(cmd, args, {
      env: {
        ...process.env,
        ...contender.env,
        ...env,
        CLUSTER_MODULE: contender.module,
        BENCH_WORKER_MODULE: contender.workerModule || '',
        BENCH_SETUP_PRIMARY: contender.setupPrimary ? JSON.stringify(contender.setupPrimary) : '',
        BENCH_SCHEDULING_POLICY: contender.schedulingPolicy != null ? String(contender.schedulingPolicy) : '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    }));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      resolve();
      this.flush();
    }));
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try { msg = JSON.parse(line); } catch { continue; }
        if (msg && typeof msg === 'object' && msg.type) this.push(msg);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => { if (this.stderr.length < 20000) this.stderr += d; });
    this.child.stdin.on('error', () => {});
  }

  push(msg) {
    if (msg.type === 'error') (this.errors || (this.errors = [])).push(msg.error);
    this.lines.push(msg);
    this.flush();
  }

  flush() {
    for (const w of [...this.waiters]) {
      const i = this.lines.findIndex((m) => m.type === w.type || (m.type === 'error' && w.failOnError));
      if (i !== -1) {
        const [msg] = this.lines.splice(i, 1);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        if (msg.type === 'error') w.reject(new Error(msg.error));
        else w.resolve(msg);
      } else if (this.exitInfo) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        const why = this.exitInfo.signal || `code ${this.exitInfo.code}`;
        w.reject(new Error(`fixture exited (${why}) before '${w.type}'${this.stderrTail()}`));
      }
    }
  }

  stderrTail() {
    const lines = this.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length === 0) return '';
    const error = lines.find((l) => /^([A-Z]\w*)?Error\b|^\w+Error:|Error \[/.test(l));
    return `: ${error || lines[lines.length - 1]}`;
  }

  /** Next message of this type (errors reported by the fixture reject). */
  wait(type, timeoutMs, failOnError = true) {
    return new Promise((resolve, reject) => {
      const w = { type, resolve, reject, failOnError };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no '${type}' from the fixture within ${timeoutMs} ms${this.stderrTail()}`));
      }, timeoutMs);
      this.waiters.push(w);
      this.flush();
    });
  }

  command(line) {
    this.child.stdin.write(`${line}\n`);
  }

  async stop() {
    if (!this.exitInfo) {
      this.command('exit');
      this.child.stdin.end();
      const t = setTimeout(() => killChild(this.child), 5000);
      await this.exited;
      clearTimeout(t);
    }
    // Workers should have gone with their primary; make sure.
    for (const pid of this.child.extraPids || []) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

module.exports = { Fixture, track, killChildren, withPin };
