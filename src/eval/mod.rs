//! Benchmark harnesses and their scorers.
