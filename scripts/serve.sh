#!/usr/bin/env bash
# The main job of README.md: build anchorage and run the engine service (`anchorage serve`, the
# Anchore v1 API on http://127.0.0.1:8228/v1 with analysis workers) on the embedded SQLite store
# in ./anchorage-data, with the corpus' vulnerability feeds (this machine reaches no feed
# servers; set ANCHORAGE_FEED_SOURCES for others). Stop it with Ctrl-C.
#
#   ANCHORAGE_ADMIN_PASSWORD=... bash scripts/serve.sh [serve flags...]
#
# Without ANCHORAGE_ADMIN_PASSWORD it runs with --dev (admin password `foobar`, loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="$(cd "${ANCHORAGE_CORPUS:-../shared/corpus}" && pwd)"
if [ -z "${ANCHORAGE_FEED_SOURCES:-}" ]; then
  ANCHORAGE_FEED_SOURCES="alpine-secdb:$CORPUS/distro/alpine-secdb-json,debian-tracker:$CORPUS/distro/debian-tracker,osv:$CORPUS/osv/PyPI,osv:$CORPUS/osv/npm,osv:$CORPUS/osv/Go,osv:$CORPUS/osv/crates,osv:$CORPUS/osv/Maven"
fi
export ANCHORAGE_FEED_SOURCES
cargo build --release --locked -p anchorage
flags=()
if [ -z "${ANCHORAGE_ADMIN_PASSWORD:-}" ]; then
  echo "serve.sh: ANCHORAGE_ADMIN_PASSWORD is not set: running with --dev (admin password foobar)" >&2
  flags+=(--dev)
fi
exec target/release/anchorage serve --data-dir "${ANCHORAGE_DATA_DIR:-./anchorage-data}" "${flags[@]}" "$@"
