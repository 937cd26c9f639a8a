//! Planning: logical plan to physical plan, and EXPLAIN.

pub mod physical;
