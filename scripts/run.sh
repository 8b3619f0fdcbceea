#!/usr/bin/env bash
# The main job of README.md: build anchorage, sync the vulnerability feeds, then scan an image
# against the default Anchore policy bundle (exit 0 GO/WARN, 1 STOP or --fail-on hit, 2 error).
#
#   bash scripts/run.sh [SOURCE] [extra scan flags...]
#
# SOURCE defaults to the corpus' Alpine 3.12 image archive. Feeds come from ANCHORAGE_FEEDS
# (space-separated `osv:|debian-tracker:|alpine-secdb:|nvd:` URL-or-PATH sources); by default the
# local corpus feeds, since this machine reaches no feed servers. The store lives in
# ./anchorage-data (ANCHORAGE_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${ANCHORAGE_CORPUS:-../shared/corpus}"
SOURCE="${1:-oci-archive:$CORPUS/images/archives/alpine-3.12.oci.tar}"
shift || true
FEEDS="${ANCHORAGE_FEEDS:-alpine-secdb:$CORPUS/distro/alpine-secdb-json alpine-secdb:$CORPUS/distro/alpine-secdb debian-tracker:$CORPUS/distro/debian-tracker osv:$CORPUS/osv/PyPI osv:$CORPUS/osv/npm osv:$CORPUS/osv/Go osv:$CORPUS/osv/crates osv:$CORPUS/osv/Maven}"

cargo build --release --locked -p anchorage
BIN=target/release/anchorage
args=()
for f in $FEEDS; do args+=(--source "$f"); done
"$BIN" feeds sync "${args[@]}"
bundle="$(mktemp)"
trap 'rm -f "$bundle"' EXIT
"$BIN" policy default > "$bundle"
"$BIN" scan "$SOURCE" --policy "$bundle" "$@"
