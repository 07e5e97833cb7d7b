'use strict';
// `rust-cluster status`: cluster.stats() as a table, or as JSON.
const fmt = require('./format');

/** The table lines for a stats() snapshot (at most 80 columns). */
function render(name, s) {
  const cpu = (c) => (c ? `${(c.user + c.system).toFixed(1)}s` : '-');
  const title = `${name ? `${name}: ` : ''}primary pid ${s.primary.pid}, up ${fmt.duration(s.primary.uptime)}, ` +
    `${s.totals.active} of ${s.totals.workers} workers serving, ` +
    `RSS ${fmt.bytes(s.primary.rss)}, CPU ${cpu(s.primary.cpu)}`;
  // A long name gets a line of its own, to stay within 80 columns.
  const lines = title.length <= 80 ? [title, ''] : [`${name}:`, title.slice(name.length + 2), ''];
  const rows = [['ID', 'PID', 'STATE', 'UPTIME', 'HANDED', 'OPEN', 'RESTARTS', 'RSS', 'CPU']];
  for (const w of s.workers) {
    rows.push([w.id, w.pid ?? '-', w.state, fmt.duration(w.uptime), fmt.count(w.connections.handed),
      fmt.count(w.connections.open), w.restarts, fmt.bytes(w.rss), cpu(w.cpu)]);
  }
  lines.push(...fmt.table(rows, new Set([2])));
  const t = s.totals;
  lines.push('', `crashes ${t.crashes}, respawns ${t.respawns}, reloads ${t.reloads}, hangs ${t.hangs}, ` +
    `recycled ${t.recycles + (t.maxRequests || 0)}`);
  return lines;
}

module.exports = { render };
