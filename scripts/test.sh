#!/usr/bin/env bash
# Runs the whole test suite. First installs and starts, idempotently, every service
# the tests need (PostgreSQL; Node.js and the OpenID Connect test provider), then runs
# every test of the workspace on both storage engines.
# Usage: scripts/test.sh [extra cargo test arguments]
#
# PostgreSQL: SISERI_TEST_POSTGRES names the server (default: the local one, trust
# auth, user postgres). Each test creates its own database `siseri_t_…`; leftovers of
# earlier runs are dropped first. An unreachable server fails the run: PostgreSQL
# tests are never skipped silently. (SISERI_SKIP_POSTGRES=1 skips them on purpose,
# loudly, for a machine without PostgreSQL.)
#
# OpenID Connect: the federated-login tests start a real provider (npm package
# oidc-provider, tests/oidc-provider) with Node.js; its packages come from the committed
# lockfile through `npm ci`, rerun whenever the lockfile is newer than the install.
#
# SMTP: the notification tests start a real SMTP server (tests/smtp-sink/sink.py, on the
# Python package aiosmtpd, installed here from PyPI when missing) and make test certificates
# with the openssl command.
#
# Schemathesis: crates/siseri/tests/schemathesis.rs fuzzes the API against its OpenAPI
# document with the Python package schemathesis (pinned, installed here from PyPI when
# missing or of another version); without it that test fails, it never skips.
#
# Browser: the browser journeys (crates/siseri/tests/browser.rs, tests/browser) drive
# Debian's Chromium (packages chromium and chromium-driver, installed here when missing)
# with the npm packages playwright-core and axe-core from the committed lockfile (`npm ci`,
# rerun whenever the lockfile is newer than the install; Playwright never downloads a
# browser of its own). Without them the browser tests fail, they never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

export SISERI_TEST_POSTGRES="${SISERI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

pg_ready() {
  psql "$SISERI_TEST_POSTGRES" -Atqc 'SELECT 1' >/dev/null 2>&1
}

ensure_postgres() {
  if ! command -v psql >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "test.sh: installing PostgreSQL (Debian package)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
  fi
  if ! pg_ready; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "test.sh: starting PostgreSQL $version…"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
      pg_ready && break
      sleep 1
    done
  fi
  if ! pg_ready; then
    echo "test.sh: PostgreSQL cannot be reached at $SISERI_TEST_POSTGRES (trust authentication expected)." >&2
    exit 1
  fi
}

drop_test_databases() {
  psql "$SISERI_TEST_POSTGRES" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'siseri\_t\_%'" |
    while read -r db; do
      psql "$SISERI_TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null
    done
}

ensure_oidc_provider() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: installing Node.js and npm (Debian packages)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  local dir=tests/oidc-provider
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "test.sh: installing the OpenID Connect test provider (npm ci)…"
    npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

ensure_smtp_sink() {
  if ! command -v python3 >/dev/null 2>&1; then
    echo "test.sh: installing Python 3 (Debian packages)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
  fi
  if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
      echo "test.sh: installing pip (Debian package)…"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    fi
    echo "test.sh: installing the SMTP test server (pip install aiosmtpd)…"
    python3 -m pip install --quiet aiosmtpd==1.4.6 ||
      python3 -m pip install --quiet --break-system-packages aiosmtpd==1.4.6
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    echo "test.sh: installing openssl (Debian package)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  fi
}

SCHEMATHESIS_VERSION=4.32.5

ensure_schemathesis() {
  if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -qF "version $SCHEMATHESIS_VERSION"; then
    echo "test.sh: installing the API fuzzer (pip install schemathesis==$SCHEMATHESIS_VERSION)…"
    python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION" ||
      python3 -m pip install --quiet --break-system-packages "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "test.sh: installing Chromium (Debian packages chromium, chromium-driver)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  local dir=tests/browser
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "test.sh: installing the browser test harness (npm ci)…"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

ensure_oidc_provider
ensure_smtp_sink
ensure_schemathesis
ensure_browser

if [ "${SISERI_SKIP_POSTGRES:-}" = 1 ]; then
  echo "test.sh: WARNING: SISERI_SKIP_POSTGRES=1, the PostgreSQL tests will NOT run." >&2
  unset SISERI_TEST_POSTGRES
else
  ensure_postgres
  drop_test_databases
  trap drop_test_databases EXIT
fi

cargo test --workspace --locked "$@"
