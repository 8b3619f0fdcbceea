#!/usr/bin/env bash
# The test command of README.md: set-up, formatting, lints, then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
# Architecture: pure crates free of I/O stacks, no module import cycles.
bash scripts/check-pure-crates.sh
python3 scripts/check-module-cycles.py --self-test
python3 scripts/check-module-cycles.py
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --doc
# The chaos test of scale-out restarts the shared PostgreSQL server: alone, before the others.
chaos=0
cargo nextest run -p anchorage --test it --locked -E 'test(/^chaos::/)' || chaos=$?
# Last, so that its summary ("N tests run: N passed") closes the output.
cargo nextest run --workspace --locked --no-fail-fast -E 'not test(/^chaos::/)'
exit "$chaos"
