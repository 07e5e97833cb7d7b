'use strict';
// The command-line subcommands that talk to a running primary over its
// control socket: status, reload, scale, stop, top, upgrade.
const client = require('../supervisor/control-client');
const status = require('./status');
const top = require('./top');

const HELP = `Usage: rust-cluster status [--json]
       rust-cluster reload [--json]
       rust-cluster scale N
       rust-cluster stop [--timeout MS]
       rust-cluster top [--interval MS]
       rust-cluster upgrade [--timeout MS] [--json]

Talk to a running primary (started by rust-cluster, or a program that calls
cluster.supervise({ control: true })) over its control socket.

  status        The primary and each worker: id, pid, state, uptime,
                connections handed/open, restarts, RSS, CPU. --json prints
                cluster.stats() as it is.
  reload        Rolling reload; waits for it. Exit 1 if a worker could not be
                replaced (it still runs the old code; the output says which).
  scale N       Fork or drain workers until N serve.
  stop          Graceful shutdown (--timeout: how long workers get to finish,
                default: the primary's shutdown timeout). Exit 1 if workers
                had to be killed.
  top           A live view, refreshed every second (--interval MS); q or
                Ctrl-C quits.
  upgrade       Replace the primary itself, dropping no connection: it starts
                a new primary from its own command line (the code and the
                rust-cluster now on disk) and hands it its listening
                sockets; once the new workers serve, the new primary takes
                the control socket and the old one drains its workers and
                exits. --timeout: how long the new primary may take until
                its workers serve (default: the primary's upgrade timeout,
                30000). Exit 1 if the new primary failed (it is stopped,
                and the old one goes on serving).

Options:
  -n, --name NAME    The cluster to talk to (default: the only one running).
                     Its socket is $XDG_RUNTIME_DIR/rust-cluster/NAME.sock, or
                     /tmp/rust-cluster-UID/NAME.sock without XDG_RUNTIME_DIR.
      --socket PATH  Talk to the control socket at PATH instead.
  -h, --help         This help.

Exit codes: 0 done; 1 the command failed; 2 bad command line or no cluster.
`;

function fail(code, message) {
  process.stderr.write(`rust-cluster: ${message}\n`);
  process.exitCode = code;
}

function parse(argv) {
  const o = { command: argv[0], name: null, socket: null, json: false, timeout: null, interval: 1000, n: null, help: false };
  const positional = [];
  for (let i = 1; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const take = () => {
      const v = value !== undefined ? value : argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const integer = (v, min) => {
      if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > 2 ** 31 - 1) throw new Error(`${arg} needs an integer >= ${min}, got '${v}'`);
      return Number(v);
    };
    switch (arg) {
      case '-h': case '--help': o.help = true; break;
      case '-n': case '--name': o.name = take(); break;
      case '--socket': o.socket = take(); break;
      case '--json': o.json = true; break;
      // An upgrade's new primary needs some time; a shutdown may give none.
      case '--timeout': o.timeout = integer(take(), o.command === 'upgrade' ? 1 : 0); break;
      case '--interval': o.interval = integer(take(), 50); break;
      default:
        if (arg.startsWith('-')) throw new Error(`unknown option '${argv[i]}'`);
        positional.push(arg);
    }
  }
  if (o.command === 'scale') {
    if (positional.length !== 1 || !/^\d+$/.test(positional[0])) throw new Error('scale needs a number of workers');
    o.n = Number(positional[0]);
  } else if (positional.length) {
    throw new Error(`unexpected argument '${positional[0]}'`);
  }
  return o;
}

function describeReload(report) {
  const lines = [];
  for (const r of report.results) {
    const who = `worker ${r.id} (pid ${r.pid})`;
    const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : '';
    if (r.outcome === 'replaced') lines.push(`  ${who} -> worker ${r.replacement.id} (pid ${r.replacement.pid})${tries}`);
    else if (r.outcome === 'failed') lines.push(`  ${who}: NOT replaced, still runs the old code: ${r.error}${tries}`);
    else if (r.outcome === 'gone') lines.push(`  ${who}: exited during the reload${r.error ? ` (${r.error})` : ''}`);
    else lines.push(`  ${who}: skipped (shutting down)`);
  }
  return lines.join('\n');
}

async function main(argv) {
  let o;
  try {
    o = parse(argv);
  } catch (err) {
    return fail(2, `${err.message}\nTry 'rust-cluster ${argv[0]} --help'.`);
  }
  if (o.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  let conn;
  try {
    conn = await client.connect(await client.locate({ name: o.name, socket: o.socket }));
  } catch (err) {
    return fail(2, err.code && err.code.startsWith('ERR_RUST_CLUSTER') ? err.message
      : `cannot reach the control socket: ${err.message}`);
  }
  const out = (text) => process.stdout.write(`${text}\n`);
  try {
    switch (o.command) {
      case 'status': {
        const s = await conn.request('status');
        if (o.json) out(JSON.stringify(s, null, 2));
        else {
          const info = await conn.request('info');
          out(status.render(info.name, s).join('\n'));
        }
        break;
      }
      case 'reload': {
        try {
          const report = await conn.request('reload');
          if (o.json) out(JSON.stringify(report, null, 2));
          else out(`reloaded: ${report.replaced} replaced in ${(report.ms / 1000).toFixed(1)} s\n${describeReload(report)}`);
        } catch (err) {
          if (!err.report) throw err;
          if (o.json) out(JSON.stringify(err.report, null, 2));
          else out(`reload incomplete: ${err.report.replaced} replaced, ${err.report.failed} NOT replaced\n${describeReload(err.report)}`);
          process.exitCode = 1;
        }
        break;
      }
      case 'scale': {
        const serving = await conn.request('scale', { n: o.n });
        out(`${serving} ${serving === 1 ? 'worker' : 'workers'} serving`);
        break;
      }
      case 'stop': {
        const { code } = await conn.request('stop', o.timeout === null ? {} : { timeout: o.timeout });
        if (code === 0) out('stopped: every worker finished in time');
        else {
          out(`stopped, but workers still running after the timeout were killed (exit code ${code})`);
          process.exitCode = 1;
        }
        break;
      }
      case 'upgrade': {
        try {
          const r = await conn.request('upgrade', o.timeout === null ? {} : { timeout: o.timeout });
          if (o.json) out(JSON.stringify(r, null, 2));
          else {
            const pids = r.workers.map((w) => w.pid).join(', ');
            out(`upgraded in ${(r.ms / 1000).toFixed(1)} s (new workers serving after ${(r.readyMs / 1000).toFixed(1)} s): ` +
              `primary pid ${r.from} -> ${r.to}, ` +
              `${r.workers.length} new ${r.workers.length === 1 ? 'worker' : 'workers'} serving (pid ${pids}); ` +
              'the old primary drains its workers and exits');
          }
        } catch (err) {
          if (!err.report || !o.json) throw err;
          out(JSON.stringify(err.report, null, 2));
          process.exitCode = 1;
        }
        break;
      }
      case 'top': {
        const info = await conn.request('info');
        process.exitCode = await top.run(conn, info.name, { interval: o.interval });
        return undefined;
      }
      default:
        throw new Error(`unknown command ${o.command}`);
    }
  } catch (err) {
    fail(1, `${o.command} failed: ${err.message}`);
  } finally {
    if (o.command !== 'top') conn.close();
  }
  return undefined;
}

module.exports = { main, parse, COMMANDS: ['status', 'reload', 'scale', 'stop', 'top', 'upgrade'] };
