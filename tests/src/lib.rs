//! The harness library: what the `harness` binary and the integration tests share.
//!
//! - [`format`]: psql's aligned and CSV output, command tags, error and notice lines;
//! - [`split`]: splitting scripts into statements as psql does;
//! - [`shell`]: the `sql` command (batch and interactive);
//! - [`slt`]: the sqllogictest runner over a `Session`;
//! - [`pg`]: the local PostgreSQL (the reference we compare against);
//! - [`bench`]: benchmarks against PostgreSQL, one module per benchmark;
//! - [`tpch`]: TPC-H data, setup, queries and answer comparison.

pub mod bench;
pub mod crash;
pub mod format;
pub mod pg;
pub mod shell;
pub mod slt;
pub mod split;
pub mod tpch;

/// The Rust examples of the repository's README.md, compiled and run as doctests so the
/// README cannot drift from the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
