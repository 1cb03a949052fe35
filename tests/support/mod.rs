//! Helpers shared by integration tests: `mod support;` in a test file, then use what it needs.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod alertmanager;
pub mod http;
pub mod prometheus;
pub mod seer;
pub mod target;
