'use strict';
// Packaging: `npm pack` the root package and this platform's binary package
// (npm/<triple>/ plus the built .node), install both tarballs into a fresh
// project with cargo and rustc off PATH (so a source build is impossible),
// and run a clustered HTTP server from the installed package.
//
// Skips only when npm itself cannot be run (or there is no binary package
// for this platform); everything else is a failure.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TARGETS, platformTriple, bindingFileName, packageName } = require('../../lib/platform');

const root = path.join(__dirname, '..', '..');
const triple = platformTriple();
const TOOLCHAIN = ['cargo', 'rustc', 'rustup'];

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

// An environment whose PATH has no Rust toolchain but still has node and npm.
function toolchainFreeEnv(tmp) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  const npmBin = which('npm', dirs);
  const nodeBin = which('node', dirs) || process.execPath;
  const kept = dirs.filter((d) => !TOOLCHAIN.some((tool) => which(tool, [d])));
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  // node and npm may live beside cargo (e.g. /usr/bin on Debian's rustc):
  // reach them through links in a directory of their own.
  fs.symlinkSync(nodeBin, path.join(bin, 'node'));
  if (npmBin) fs.symlinkSync(fs.realpathSync(npmBin), path.join(bin, 'npm'));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Drop the toolchain's variables and anything npm passes to scripts
    // (npm_config_*, npm_lifecycle_*), so the inner npm starts clean.
    if (/^(CARGO|RUSTC|RUSTUP|RUSTFLAGS)/.test(k) || /^npm_/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = [bin, ...kept].join(path.delimiter);
  const userconfig = path.join(tmp, 'npmrc');
  fs.writeFileSync(userconfig, '');
  Object.assign(env, {
    npm_config_userconfig: userconfig,
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });
  return { env, dirs: [bin, ...kept] };
}

function run(cmd, args, opts) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 90000, killSignal: 'SIGKILL', ...opts });
  const ms = Date.now() - started;
  const out = `$ ${cmd} ${args.join(' ')} (cwd ${opts.cwd}, ${ms} ms, status ${r.status}, signal ${r.signal})\n` +
    `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  return { ...r, out };
}

// Runs a node script in its own process group, killed whole on timeout.
function runNode(file, opts, execArgv = []) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...execArgv, file], { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    }, 45000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function packJson(r) {
  // npm pack --json prints a JSON array; lifecycle output may precede it.
  const start = r.stdout.indexOf('[');
  assert.ok(start !== -1, `npm pack printed no JSON:\n${r.out}`);
  return JSON.parse(r.stdout.slice(start))[0];
}

test('npm pack + install with a prebuilt binary package and no Rust toolchain, then run a cluster', async (t) => {
  if (!Object.prototype.hasOwnProperty.call(TARGETS, triple)) {
    t.skip(`no binary package is laid out for ${triple}`);
    return;
  }
  const probe = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip(`npm pack is impossible here: cannot run npm (${probe.error ? probe.error.code : probe.stderr.trim()})`);
    return;
  }

  const file = bindingFileName(triple);
  const built = [path.join(root, file), path.join(root, 'npm', triple, file)].find((f) => fs.existsSync(f));
  assert.ok(built, `no ${file} to package: run \`npm run build\` (or npm install) first`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-pack-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const { env, dirs } = toolchainFreeEnv(tmp);
  assert.strictEqual(which('cargo', dirs), null, 'cargo is still on the stripped PATH');
  assert.ok(which('npm', dirs), 'npm is not on the stripped PATH');
  const tarballs = path.join(tmp, 'tarballs');
  fs.mkdirSync(tarballs);

  // The root package.
  let r = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], { cwd: root, env });
  assert.strictEqual(r.status, 0, r.out);
  const rootPack = packJson(r);
  const rootFiles = rootPack.files.map((f) => f.path);
  for (const f of ['index.js', 'index.mjs', 'register.js', 'lib/register-hooks.mjs', 'lib/binding.js', 'lib/platform.js', 'scripts/build.js', 'Cargo.toml', 'package.json']) {
    assert.ok(rootFiles.includes(f), `root tarball lacks ${f}: ${rootFiles.join(', ')}`);
  }
  assert.deepStrictEqual(rootFiles.filter((f) => f.endsWith('.node') || f.startsWith('npm/')), [],
    'root tarball must not carry binaries or the binary packages');

  // The binary package: npm/<triple>/ with the built binary, in a copy so
  // the work tree is left alone.
  const binDir = path.join(tmp, 'binpkg');
  fs.mkdirSync(binDir);
  for (const f of ['package.json', 'README.md']) {
    fs.copyFileSync(path.join(root, 'npm', triple, f), path.join(binDir, f));
  }
  fs.copyFileSync(built, path.join(binDir, file));
  r = run('npm', ['pack', '--json', '--pack-destination', tarballs], { cwd: binDir, env });
  assert.strictEqual(r.status, 0, r.out);
  const binPack = packJson(r);
  assert.strictEqual(binPack.name, packageName(triple));
  assert.strictEqual(binPack.version, rootPack.version, 'binary package version differs from the root package');
  assert.ok(binPack.files.some((f) => f.path === file), `binary tarball lacks ${file}`);

  // A fresh project installs both tarballs. Everything it needs is local,
  // so --offline; the other platforms' optional packages are skipped.
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  r = run('npm', ['install', '--offline', '--foreground-scripts', '--no-audit', '--no-fund',
    path.join(tarballs, binPack.filename), path.join(tarballs, rootPack.filename)], { cwd: app, env });
  assert.strictEqual(r.status, 0, r.out);
  assert.match(r.stdout + r.stderr, new RegExp(`using prebuilt ${packageName(triple)}`), r.out);
  const installed = path.join(app, 'node_modules', 'rust-cluster');
  assert.deepStrictEqual(fs.readdirSync(installed).filter((f) => f.endsWith('.node')), [],
    'the install script built or copied a binary into rust-cluster itself');
  assert.ok(fs.existsSync(path.join(app, 'node_modules', packageName(triple), file)));

  // Run a clustered HTTP server from it.
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'cluster-http.js'), path.join(app, 'server.js'));
  const res = await runNode(path.join(app, 'server.js'), { cwd: app, env });
  const detail = `exit ${res.code} ${res.signal}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
  assert.strictEqual(res.code, 0, detail);
  const result = JSON.parse(res.stdout.trim().split('\n').pop());
  assert.strictEqual(result.error, undefined, detail);
  assert.ok(result.notNodeCluster, 'require("rust-cluster") returned node:cluster in the primary');
  assert.deepStrictEqual(result.addons,
    [fs.realpathSync(path.join(app, 'node_modules', packageName(triple), file))], detail);
  assert.strictEqual(result.forked, 2);
  assert.strictEqual(result.workersAnswering, 2, detail);
  for (const a of result.answers) {
    assert.strictEqual(a.status, 200, detail);
    assert.match(a.body, /^pong from worker [12]$/, detail);
  }
  assert.strictEqual(result.workersLeft, 0, detail);

  // The same server left on require('node:cluster'), started with
  // --require rust-cluster/register: the package's export resolves and the
  // primary runs on the addon.
  const source = fs.readFileSync(path.join(__dirname, 'fixtures', 'cluster-http.js'), 'utf8');
  fs.writeFileSync(path.join(app, 'server-register.js'), source.replace("require('rust-cluster')", "require('node:cluster')"));
  const reg = await runNode(path.join(app, 'server-register.js'), { cwd: app, env }, ['--require', 'rust-cluster/register']);
  const regDetail = `exit ${reg.code} ${reg.signal}\n--- stdout\n${reg.stdout}\n--- stderr\n${reg.stderr}`;
  assert.strictEqual(reg.code, 0, regDetail);
  const regResult = JSON.parse(reg.stdout.trim().split('\n').pop());
  assert.deepStrictEqual(regResult.addons, result.addons, regDetail);
  assert.strictEqual(regResult.workersAnswering, 2, regDetail);
});

test('npm/<triple>/ packages and optionalDependencies match package.json', () => {
  const { check } = require('../../scripts/npm-dirs');
  assert.deepStrictEqual(check(), [], 'run `node scripts/npm-dirs.js`');
});
