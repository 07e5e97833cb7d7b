//! The constants Rust and JS share, compiled by build.rs from
//! lib/contract.json, which JS requires: event kinds, policy numbers, the
//! agent's command and acts, the connection channel's limits.
#![allow(dead_code)]

include!(concat!(env!("OUT_DIR"), "/contract.rs"));
