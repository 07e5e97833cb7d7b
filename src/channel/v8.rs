//! The subset of V8 value serialization that internal messages use.
