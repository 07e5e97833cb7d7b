#!/usr/bin/env node
'use strict';
// rust-cluster's command line: run an ordinary single-process Node server on
// every core, supervised (lib/cli/run.js), or talk to a running one
// (lib/cli/control.js: status, reload, scale, stop, top). See --help.
const control = require('../lib/cli/control');

const argv = process.argv.slice(2);
if (control.COMMANDS.includes(argv[0])) control.main(argv);
else require('../lib/cli/run').main(argv);
