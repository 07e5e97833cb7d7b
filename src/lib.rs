//! rust-cluster: the cluster primary, in Rust, behind a small N-API surface.
pub mod channel;
