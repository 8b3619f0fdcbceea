#!/usr/bin/env bash
# Fails when a pure crate regains an I/O stack in its normal (non-dev) dependency tree: the data
# model, the advisory model, matching, policy and SBOM encoding must build without tokio,
# reqwest, hyper or SQLite (ARCHITECTURE.md, "dependency direction").
set -euo pipefail
cd "$(dirname "$0")/.."
PURE=(anchorage-types anchorage-version anchorage-model anchorage-advisory anchorage-match anchorage-policy anchorage-sbom)
FORBIDDEN='^(tokio|reqwest|hyper|hyper-util|rusqlite|libsqlite3-sys|sqlx|sqlx-core|postgres|tokio-postgres) v'
status=0
for crate in "${PURE[@]}"; do
    # --prefix none: one "name vX.Y.Z" per line; --edges normal: what a user of the crate links.
    tree=$(cargo tree --locked --offline -p "$crate" --edges normal --prefix none 2>/dev/null \
        || cargo tree --locked -p "$crate" --edges normal --prefix none)
    bad=$(grep -E "$FORBIDDEN" <<<"$tree" | sed "s/ (\*)$//" | sort -u || true)
    if [ -n "$bad" ]; then
        echo "check-pure-crates: $crate links an I/O stack:" >&2
        sed 's/^/    /' <<<"$bad" >&2
        echo "    (see: cargo tree -p $crate -e normal -i <name>)" >&2
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "check-pure-crates: ${#PURE[@]} pure crates free of tokio/reqwest/hyper/sqlite"
exit "$status"
