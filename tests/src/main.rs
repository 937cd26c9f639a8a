//! The harness binary: SQL shell, sqllogictest runner, benchmarks.

fn main() {
    println!("harness");
}
