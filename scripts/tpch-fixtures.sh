#!/usr/bin/env bash
# Regenerates the TPC-H answer fixtures of tests/tests/tpch.rs from the local PostgreSQL.
#
#   scripts/tpch-fixtures.sh [SF...]        (default: 0.01, the committed fixtures)
#
# For each scale factor: generates the data (tpchgen, identical to dbgen), loads it into heap
# tables of a scratch database (COPY, ANALYZE), runs the 22 queries with `psql --csv -q` and
# writes tests/tpch/expected/sfSF/qNN.csv. Needs PostgreSQL at PGHOST/PGPORT/PGUSER (default
# 127.0.0.1:5432, postgres) and psql on PATH. SF 0.01 takes a few seconds; SF 0.1 about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then set -- 0.01; fi
cargo build -q -p harness --bin harness
bin="${CARGO_TARGET_DIR:-target}/debug/harness"
for sf in "$@"; do
    "$bin" tpch-fixtures --sf "$sf"
done
