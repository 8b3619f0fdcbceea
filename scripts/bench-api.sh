#!/usr/bin/env bash
# API load benchmark (issue 10): N distinct images (default 1,000: the Alpine 3.20 minirootfs
# plus one small unique layer each) pushed to a loopback registry, added to `anchorage serve`
# (SQLite, or PostgreSQL with ANCHORAGE_DATABASE_URL) and analysed; then `oha` (crates.io) runs
# C concurrent clients (default 50) for D seconds each against: image list, one image's
# vulnerability report, one image's policy check. Prints oha's summaries (requests/s,
# p50/p99, errors) and the server's RSS before and after each run.
#
#   N=1000 C=50 D=30 bash scripts/bench-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000}"; C="${C:-50}"; D="${D:-30}"
BIN="${ANCHORAGE_BIN:-target/release/anchorage}"
CORPUS="$(cd "${ANCHORAGE_CORPUS:-../shared/corpus}" && pwd)"
WORK="${BENCH_DIR:-$(mktemp -d /tmp/anchorage-bench-api.XXXXXX)}"
mkdir -p "$WORK"
[ -x "$BIN" ] || cargo build --release --locked -p anchorage
command -v oha >/dev/null || cargo install --locked oha
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

REG_PORT="$(free_port)"
cat > "$WORK/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$REG_PORT}
YML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
REG_PID=$!
SERVER_PID=""
trap 'kill $REG_PID ${SERVER_PID:-} 2>/dev/null || true' EXIT

echo "bench-api: building and pushing $N images"
L="$WORK/layout"
if [ ! -f "$L/index.json" ]; then
  umoci init --layout "$L"
  mkdir -p "$WORK/rootfs"
  tar -xzf "$CORPUS/images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz" -C "$WORK/rootfs"
  umoci new --image "$L:base"
  umoci insert --image "$L:base" "$WORK/rootfs" / > /dev/null
fi
for i in $(seq 1 "$N"); do
  d="$WORK/u/$i"; mkdir -p "$d/etc"; echo "bench image $i" > "$d/etc/bench-id"
  tar --owner=0 --group=0 -cf "$WORK/u/$i.tar" -C "$d" etc
  umoci raw add-layer --image "$L:base" --tag "img$i" "$WORK/u/$i.tar"
done
# Pushes in parallel (the base layer is uploaded once, then found in the registry).
seq 1 "$N" | xargs -P 4 -I{} skopeo copy -q --dest-tls-verify=false \
  "oci:$L:img{}" "docker://127.0.0.1:$REG_PORT/bench/img:{}"

API_PORT="$(free_port)"
export ANCHORAGE_ADMIN_PASSWORD=bench-pass
export ANCHORAGE_FEED_SOURCES="alpine-secdb:$CORPUS/distro/alpine-secdb-json"
export ANCHORAGE_INSECURE_REGISTRIES="127.0.0.1:$REG_PORT"
"$BIN" serve --listen "127.0.0.1:$API_PORT" --data-dir "$WORK/data" --workers 2 > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
URL="http://127.0.0.1:$API_PORT/v1"
AUTH="admin:bench-pass"
until curl -sf "$URL" > /dev/null; do sleep 0.2; done
echo "bench-api: adding $N images"
start=$(date +%s)
for i in $(seq 1 "$N"); do
  curl -sf -u "$AUTH" -H 'Content-Type: application/json' -X POST "$URL/images" \
    -d "{\"tag\": \"127.0.0.1:$REG_PORT/bench/img:$i\"}" > /dev/null
done
while :; do
  left=$(curl -sf -u "$AUTH" "$URL/images?analysis_status=not_analyzed" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  busy=$(curl -sf -u "$AUTH" "$URL/images?analysis_status=analyzing" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  [ "$left" = 0 ] && [ "$busy" = 0 ] && break
  sleep 2
done
echo "bench-api: $N images added and analysed in $(( $(date +%s) - start )) s"
curl -sf -u "$AUTH" "$URL/images" | python3 -c 'import json,sys; l=json.load(sys.stdin); import collections; print("analysis status:", dict(collections.Counter(i["analysis_status"] for i in l)))'
du -sh "$WORK/data/anchorage.sqlite"* 2>/dev/null || true
DIGEST=$(curl -sf -u "$AUTH" "$URL/images" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["imageDigest"])')
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$SERVER_PID/status"; }
BASIC="Authorization: Basic $(printf %s "$AUTH" | base64)"
for target in "images" "images/$DIGEST/vuln/all" "images/$DIGEST/check?tag=127.0.0.1:$REG_PORT/bench/img:1&detail=true"; do
  echo "=== $C clients, $D s: GET $target (server RSS before: $(rss))"
  oha --no-tui -c "$C" -z "${D}s" -H "$BASIC" "$URL/$target"
  echo "server RSS after: $(rss)"
done
