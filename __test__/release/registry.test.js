'use strict';
// A release into a throwaway registry, and installs from it as a new user
// would. A verdaccio registry on 127.0.0.1 (scripts/setup.sh installs it;
// no uplinks, so nothing else is in it) gets what the release workflow
// publishes: a staged copy of this package whose napi.targets are the
// binaries built here (linux-x64-gnu by npm install, linux-arm64-gnu by npm
// test), their .node files laid out as CI artifacts, then `npm run
// artifacts` and `npm publish` (prepublishOnly: napi prepublish publishes
// each @rust-cluster/binding-<platform> package and lists it in
// optionalDependencies; then the root package). Then, in fresh projects
// with no Rust toolchain on PATH:
//   - `npm install rust-cluster` takes only this platform's package and a
//     2-worker server runs on the Rust engine (also with --require
//     rust-cluster/register);
//   - `npm install rust-cluster --os=darwin --cpu=arm64` (npm's platform
//     override) installs with no platform package, says so, and the same
//     server runs on the portable engine.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { verdaccio } = require('../../scripts/tools');
const { platformTriple, bindingFileName, packageName } = require('../../lib/platform');

const ROOT = path.resolve(__dirname, '../..');
const TOOLCHAIN = ['cargo', 'rustc', 'rustup'];
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function which(name, dirs) {
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {}
  }
  return null;
}

// An environment for npm whose PATH has no Rust toolchain but still has
// node and npm, and whose npm config is this test's own.
function cleanEnv(tmp, registry, token) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  // node and npm may live beside cargo (e.g. /usr/bin with Debian's rustc).
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(fs.realpathSync(which('npm', dirs)), path.join(bin, 'npm'));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // No toolchain variables, nothing npm passes to scripts, no engine choice.
    if (/^(CARGO|RUSTC|RUSTUP|RUSTFLAGS)/.test(k) || /^npm_/i.test(k) || k === 'RUST_CLUSTER_ENGINE' ||
        k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  env.PATH = [bin, ...dirs.filter((d) => !TOOLCHAIN.some((tool) => which(tool, [d])))].join(path.delimiter);
  const npmrc = path.join(tmp, 'npmrc');
  fs.writeFileSync(npmrc, `registry=${registry}\n//${new URL(registry).host}/:_authToken=${token}\n`);
  Object.assign(env, {
    npm_config_userconfig: npmrc,
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });
  return { env, dirs: env.PATH.split(path.delimiter) };
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180000, killSignal: 'SIGKILL', ...opts });
  const out = `$ ${cmd} ${args.join(' ')} (cwd ${opts.cwd}, status ${r.status}, signal ${r.signal})\n` +
    `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  return { ...r, out };
}

// verdaccio on 127.0.0.1, on a port the kernel picks.
async function startRegistry(t, tmp) {
  const config = path.join(tmp, 'verdaccio.yaml');
  fs.writeFileSync(config, [
    `storage: ${path.join(tmp, 'storage')}`,
    'auth:',
    `  htpasswd: { file: ${path.join(tmp, 'htpasswd')}, max_users: 10 }`,
    'uplinks: {}',
    'packages:',
    "  '**': { access: $all, publish: $authenticated }",
    'log: { type: stdout, format: pretty, level: error }',
  ].join('\n'));
  const launcher = `const { runServer } = require(${JSON.stringify(path.resolve(verdaccio(), '../..'))});
    runServer(${JSON.stringify(config)}).then((app) => {
      const server = app.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
    });`;
  const child = spawn(process.execPath, ['-e', launcher], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verdaccio did not start:\n${output}`)), 60000);
    const take = (d) => {
      output += d;
      const m = /^port (\d+)$/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code) => reject(new Error(`verdaccio exited (${code}):\n${output}`)));
  });
  const registry = `http://127.0.0.1:${port}/`;
  // A user, for the token npm publishes with.
  const token = await new Promise((resolve, reject) => {
    const body = JSON.stringify({ name: 'release', password: 'release-test-password' });
    const req = http.request(`${registry}-/user/org.couchdb.user:release`,
      { method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => { text += d; }).on('end', () => {
          const { token: tk } = JSON.parse(text);
          if (tk) resolve(tk);
          else reject(new Error(`no token from verdaccio: ${res.statusCode} ${text}`));
        });
      });
    req.on('error', reject);
    req.end(body);
  });
  return { registry, token };
}

// The package as the release workflow has it before publishing: the
// checkout, and the binaries as downloaded CI artifacts.
function stage(tmp, triples) {
  const dir = path.join(tmp, 'stage');
  const tracked = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(tracked.status, 0, tracked.stderr);
  for (const f of tracked.stdout.split('\0').filter(Boolean)) {
    if (!fs.existsSync(path.join(ROOT, f))) continue;
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const staged = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  staged.napi.targets = staged.napi.targets.filter((rust) => triples.some((t) => t.rust === rust));
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);
  for (const t of triples) {
    const artifacts = path.join(dir, 'artifacts', `bindings-${t.rust}`);
    fs.mkdirSync(artifacts, { recursive: true });
    fs.copyFileSync(path.join(ROOT, bindingFileName(t.triple)), path.join(artifacts, bindingFileName(t.triple)));
  }
  return dir;
}

// Runs a server file of a project, in its own process group.
function runServer(file, cwd, env, execArgv = []) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...execArgv, file], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 60000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      const detail = `exit ${code} ${signal}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
      assert.equal(code, 0, detail);
      const result = JSON.parse(stdout.trim().split('\n').pop());
      assert.equal(result.error, undefined, detail);
      assert.equal(result.workersAnswering, 2, detail);
      assert.equal(result.workersLeft, 0, detail);
      resolve(result);
    });
  });
}

function newProject(tmp, name) {
  const app = path.join(tmp, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'cluster-http.js'), path.join(app, 'server.js'));
  return app;
}

test('release to a local registry; npm install picks this platform\'s binary, or none under --os/--cpu', { timeout: 600000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-registry-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const host = platformTriple();
  const rustOf = { 'linux-x64-gnu': 'x86_64-unknown-linux-gnu', 'linux-arm64-gnu': 'aarch64-unknown-linux-gnu' };
  const triples = Object.keys(rustOf).map((triple) => ({ triple, rust: rustOf[triple] }));
  for (const { triple } of triples) {
    assert.ok(fs.existsSync(path.join(ROOT, bindingFileName(triple))),
      `${bindingFileName(triple)} is missing: npm install builds this platform's, npm run build:arm64 the arm64 one`);
  }
  assert.ok(rustOf[host], `this test runs on linux-x64-gnu or linux-arm64-gnu, not ${host}`);

  const { registry, token } = await startRegistry(t, tmp);
  const { env, dirs } = cleanEnv(tmp, registry, token);
  assert.equal(which('cargo', dirs), null, 'cargo is still on the stripped PATH');

  // Publish as the release workflow does.
  const dir = stage(tmp, triples);
  let r = run('npm', ['run', 'artifacts'], { cwd: dir, env });
  assert.equal(r.status, 0, r.out);
  r = run('npm', ['publish', '--ignore-scripts=false'], { cwd: dir, env });
  assert.equal(r.status, 0, r.out);
  const published = (name) => run('npm', ['view', name, 'version'], { cwd: tmp, env });
  for (const { triple } of triples) {
    r = published(packageName(triple));
    assert.equal(r.stdout.trim(), pkg.version, r.out);
  }
  // napi prepublish adds the binary packages to the root's own optional
  // dependencies.
  r = run('npm', ['view', 'rust-cluster', 'optionalDependencies', '--json'], { cwd: tmp, env });
  assert.deepEqual(JSON.parse(r.stdout), {
    ...pkg.optionalDependencies,
    ...Object.fromEntries(triples.map(({ triple }) => [packageName(triple), pkg.version])),
  }, r.out);

  // A new user on this platform.
  const app = newProject(tmp, 'app');
  r = run('npm', ['install', '--foreground-scripts', 'rust-cluster'], { cwd: app, env });
  assert.equal(r.status, 0, r.out);
  assert.match(r.stdout, /rust-cluster: Rust engine \(/, r.out);
  assert.deepEqual(fs.readdirSync(path.join(app, 'node_modules', '@rust-cluster')), [`binding-${host}`],
    'npm installed only this platform\'s binary package');
  const installed = path.join(app, 'node_modules', 'rust-cluster');
  assert.deepEqual(fs.readdirSync(installed).filter((f) => f.endsWith('.node') || f === 'npm'), [],
    'the root package carries no binary and builds none');
  const binary = fs.realpathSync(path.join(app, 'node_modules', packageName(host), bindingFileName(host)));
  let result = await runServer('server.js', app, env);
  assert.equal(result.engine, 'rust');
  assert.deepEqual(result.addons, [binary]);
  // Left on node:cluster, with --require rust-cluster/register.
  fs.writeFileSync(path.join(app, 'server-register.js'),
    fs.readFileSync(path.join(app, 'server.js'), 'utf8').replace("require('rust-cluster')", "require('node:cluster')"));
  result = await runServer('server-register.js', app, env, ['--require', 'rust-cluster/register']);
  assert.equal(result.engine, 'rust');
  assert.deepEqual(result.addons, [binary]);

  // A new user on a platform with no binary package (npm's override).
  const mac = newProject(tmp, 'mac');
  r = run('npm', ['install', '--foreground-scripts', '--os=darwin', '--cpu=arm64', 'rust-cluster'], { cwd: mac, env });
  assert.equal(r.status, 0, r.out);
  assert.equal(fs.existsSync(path.join(mac, 'node_modules', '@rust-cluster')), false, r.out);
  assert.match(r.stdout, /rust-cluster: no prebuilt binary for linux-[a-z0-9]+-gnu and no Rust toolchain \(cargo\) to build one: rust-cluster will run on its portable engine/, r.out);
  result = await runServer('server.js', mac, env);
  assert.equal(result.engine, 'node');
  assert.deepEqual(result.addons, []);
});
