'use strict';
// The commands of the control socket (control.js), in terms of the
// cluster's own supervision functions: what `rust-cluster status`, `reload`,
// `scale N`, `stop` and `upgrade` run in the primary.
const options = require('./options');
const { reloadReport, incomplete } = require('./reload');
const { exitAfterOutput } = require('./exit');

function createCommands(state, api) {
  return {
    /** Who answers: for `--name` discovery and `top`'s title. */
    info: () => ({
      name: state.control ? state.control.name : null,
      pid: process.pid,
      argv: process.argv,
      cwd: process.cwd(),
      node: process.version,
      uptime: process.uptime(),
    }),
    status: () => api.stats(),
    async reload() {
      if (state.shuttingDown) throw shuttingDownError();
      const { report } = await reloadReport(state);
      if (report.failed > 0) throw incomplete(report);
      return report;
    },
    /** Answered once the new primary has taken over (upgrade.js); we drain and exit after. */
    upgrade(request) {
      if (state.shuttingDown) throw shuttingDownError();
      const timeout = request.timeout === undefined || request.timeout === null ? undefined
        : options.integer(request.timeout, 'timeout', 1);
      return api.upgrade(timeout === undefined ? {} : { timeout });
    },
    scale(request) {
      if (state.shuttingDown) throw shuttingDownError();
      return api.scale(request.n);
    },
    async stop(request, { afterAnswer }) {
      let timeout;
      if (request.timeout !== undefined && request.timeout !== null) {
        timeout = options.integer(request.timeout, 'timeout', 0);
      }
      const code = await api.shutdown(timeout === undefined ? {} : { timeout });
      // As on a shutdown signal: exit with the code, unless the program said
      // it exits by itself (shutdown: { exit: false }); once the answer is out.
      const shutdown = state.config.shutdown;
      if (!shutdown || shutdown.exit) afterAnswer(() => exitAfterOutput(code));
      return { code };
    },
  };
}

function shuttingDownError() {
  const err = new Error('the cluster is shutting down');
  err.code = 'ERR_RUST_CLUSTER_SHUTTING_DOWN';
  return err;
}

module.exports = { createCommands, shuttingDownError };
