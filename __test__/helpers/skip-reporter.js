'use strict';
// A node --test reporter (scripts/test.js, scripts/test-matrix.js add it
// beside the usual one): one JSON line per skipped or todo test, so that a
// run under CI can fail on them (see runner.js).
module.exports = async function* skips(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, todo, name, file } = event.data;
    if (skip !== undefined || todo !== undefined) yield `${JSON.stringify({ file, name, skip, todo })}\n`;
  }
};
