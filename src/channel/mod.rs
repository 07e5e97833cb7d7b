//! One worker's IPC channel.
pub mod v8;
