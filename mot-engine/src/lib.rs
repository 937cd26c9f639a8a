//! # mot-engine: an in-memory optimistic-concurrency storage engine
//!
//! MOT (openGauss's Memory-Optimized Tables) rebuilt behind the extended FDW API: the
//! envelope's default table storage. Rows live in memory as versioned records; every table has
//! a heap (row id order) and any number of ordered indexes (lock-free skip lists keyed by
//! memcomparable bytes); transactions run Silo-style optimistic concurrency control with a
//! commit-time validation and abort with SQLSTATE 40001 on conflict.
//!
//! Map of the crate:
//! - [`key`]: order-preserving key encoding; [`row`]: records and their version word;
//! - [`index`], [`table`]: the ordered maps, table shape and storage; [`hint`]: the hash
//!   hints that make primary-key lookups skip the skip-list search;
//! - [`txn`]: read/write/scan sets and the commit protocol (read this first);
//! - [`scan`]: range scans merged with the transaction's own writes; [`plan`]: index-aware
//!   paths and costs;
//! - [`memory`], [`gc`]: pool accounting and epoch-based reclamation;
//! - [`ddl`]: CREATE/DROP TABLE and INDEX, ALTER TABLE, TRUNCATE, VACUUM;
//! - [`engine`]: tables, transactions, the commit clock; [`fdw`]: the `mot_fdw` wrapper;
//!   [`lite`]: the lite execution path for prepared point statements.
//!
//! - [`durability`]: redo records through the envelope's WAL, checkpoints, recovery.
//!
//! Not yet: parallel scans.

pub mod ddl;
pub mod durability;
pub mod engine;
pub mod errors;
pub mod fdw;
pub mod gc;
pub mod hint;
pub mod index;
pub mod key;
pub mod lite;
pub mod memory;
pub mod plan;
pub mod row;
pub mod scan;
pub mod table;
pub mod txn;

pub use engine::MotEngine;
pub use fdw::{handler, MotFdw};

#[cfg(test)]
mod tests;
