#!/usr/bin/env bash
# Installs what Anchorage's tests need on a fresh Debian machine (idempotent; run as root).
# Called by scripts/test.sh and .ci/run.
set -euo pipefail

# Debian packages the integration tests drive as real peers:
#   docker-registry  - the real OCI registry the registry tests push to and pull from
#   skopeo, umoci    - build and push real images from the corpus rootfs tarballs
#   apache2-utils    - htpasswd (bcrypt) for the registry's basic auth
#   openssl          - key and certificate for the registry's token auth
#   rpm              - writes real rpm databases for the rpm cataloger tests
#   db5.3-util       - db5.3_load writes real Berkeley DB rpm `Packages` files for the rpm tests
#   time             - /usr/bin/time -v for benchmark memory numbers
#   busybox, nginx-core, redis-tools, openjdk-17-jre-headless, libguava-java, libcommons-io-java,
#   libatinject-jsr330-api-java, libcurl4, python3.11-minimal, nodejs
#                    - real binaries and jars the binary-classifier and Java catalogers are tested on
#   openjdk-17-jdk-headless - `jar`, to build wars around the real jars (nested-archive tests)
#   python3-venv     - the venv that holds the SPDX project's validator (below)
#   haproxy, memcached, apache2-bin, php8.2-cli, perl-base, libruby3.1, libsqlite3-0,
#   mariadb-server-core, mariadb-client-core, erlang-base, libc6, gcc-12, golang-1.19-go
#                    - more real binaries for the data-driven classifier table (tests/lang_binary.rs)
#   clamav-daemon, clamav - clamd and sigtool: the malware-scan tests start their own clamd on a
#                    signature database they make (no freshclam, no service is started or needed)
NEEDED=(docker-registry skopeo umoci apache2-utils openssl rpm db5.3-util time jq curl
  busybox nginx-core redis-tools openjdk-17-jre-headless libguava-java libcommons-io-java
  libatinject-jsr330-api-java libcurl4 python3.11-minimal nodejs openjdk-17-jdk-headless
  python3-venv
  haproxy memcached apache2-bin php8.2-cli perl-base libruby3.1 libsqlite3-0 mariadb-server-core
  mariadb-client-core erlang-base libc6 gcc-12 golang-1.19-go clamav-daemon clamav)
missing=()
for p in "${NEEDED[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The SPDX project's own validator (`pyspdxtools -i FILE`, PyPI spdx-tools 0.8.x): the SPDX
# output tests run it next to the JSON schema. Installed into its own venv, idempotently.
SPDX_VENV=/opt/anchorage-venv
if ! "$SPDX_VENV/bin/pyspdxtools" --help >/dev/null 2>&1; then
  echo "setup: installing spdx-tools 0.8 into $SPDX_VENV"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO /usr/bin/python3 -m venv "$SPDX_VENV"
  $SUDO "$SPDX_VENV/bin/pip" install -q 'spdx-tools>=0.8,<0.9'
fi

# The real Anchore client (PyPI anchorecli 0.9.3) for the API acceptance tests, in its own venv:
# its PyYAML 5.4.1 pin builds on Python 3.11 only with Cython < 3 as a build constraint.
CLI_VENV=/opt/anchorecli-venv
if ! "$CLI_VENV/bin/anchore-cli" --version >/dev/null 2>&1; then
  echo "setup: installing anchorecli 0.9.3 into $CLI_VENV"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  constraint="$(mktemp)"
  echo 'cython<3' > "$constraint"
  $SUDO /usr/bin/python3 -m venv "$CLI_VENV"
  $SUDO env PIP_CONSTRAINT="$constraint" "$CLI_VENV/bin/pip" install -q 'anchorecli==0.9.3'
  rm -f "$constraint"
fi

# schemathesis (property-based API tests against the live server) and openapi-spec-validator
# check the generated OpenAPI document; hypothesis is pinned to the range schemathesis 3.39 runs
# with (newer releases removed an internal API it uses).
API_VENV=/opt/schemathesis-venv
if ! "$API_VENV/bin/schemathesis" --version >/dev/null 2>&1 \
   || ! "$API_VENV/bin/openapi-spec-validator" --help >/dev/null 2>&1; then
  echo "setup: installing schemathesis and openapi-spec-validator into $API_VENV"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO /usr/bin/python3 -m venv "$API_VENV"
  $SUDO "$API_VENV/bin/pip" install -q 'schemathesis==3.39.16' 'hypothesis==6.122.0' \
    'openapi-spec-validator==0.7.1'
fi

# Operations checks (tests/it/ops.rs): kubernetes-validate (ships the Kubernetes schemas; runs
# offline) for deploy/kubernetes, dockerfile-parse for the Dockerfile, and prometheus-client's
# OpenMetrics parser for real /metrics scrapes.
OPS_VENV=/opt/ops-venv
if ! "$OPS_VENV/bin/kubernetes-validate" --version >/dev/null 2>&1 \
   || ! "$OPS_VENV/bin/python" -c 'import dockerfile_parse, prometheus_client' >/dev/null 2>&1; then
  echo "setup: installing kubernetes-validate, dockerfile-parse, prometheus-client into $OPS_VENV"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO /usr/bin/python3 -m venv "$OPS_VENV"
  $SUDO "$OPS_VENV/bin/pip" install -q 'kubernetes-validate==1.37.0' 'dockerfile-parse==2.0.1' \
    'prometheus-client==0.26.0'
fi

# A real compose implementation (docker-compose 1.29.2, PyPI) validates deploy/compose.yaml
# (`docker-compose config -q` needs no Docker daemon); its PyYAML 5.4.1 pin builds on Python
# 3.11 only with Cython < 3 as a build constraint, as for anchorecli.
COMPOSE_VENV=/opt/compose-venv
if ! "$COMPOSE_VENV/bin/docker-compose" version >/dev/null 2>&1; then
  echo "setup: installing docker-compose 1.29.2 into $COMPOSE_VENV"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  constraint="$(mktemp)"
  echo 'cython<3' > "$constraint"
  $SUDO /usr/bin/python3 -m venv "$COMPOSE_VENV"
  $SUDO env PIP_CONSTRAINT="$constraint" "$COMPOSE_VENV/bin/pip" install -q 'docker-compose==1.29.2'
  rm -f "$constraint"
fi

# moto's server (PyPI moto[server] 5.x): a real S3 API on loopback, for the analysis archive's
# s3 storage driver tests (crates/anchorage-store/tests/store/lifecycle.rs).
MOTO_VENV=/opt/moto-venv
if ! "$MOTO_VENV/bin/moto_server" --help >/dev/null 2>&1; then
  echo "setup: installing moto[server] into $MOTO_VENV"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO /usr/bin/python3 -m venv "$MOTO_VENV"
  $SUDO "$MOTO_VENV/bin/pip" install -q 'moto[server]>=5.1,<6'
fi

# cargo-nextest runs the test suite (installed on the project's machines; install if absent).
if ! command -v cargo-nextest >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
