'use strict';
// The Rust engine's native addon, through the loader @napi-rs/cli generates
// (binding.js at the package root, written by `npm run build`): the binary
// beside it (rust_cluster.<platform>.node, built from source) or the
// prebuilt @rust-cluster/binding-<platform> package npm installed as an
// optional dependency. It throws when neither loads; lib/engine.js then
// picks the portable engine (or reports it, with RUST_CLUSTER_ENGINE=rust).
module.exports = require('../binding.js');
