#!/usr/bin/env bash
# The test command of openkms: Rust build + unit/integration tests, then the end-to-end suite
# that drives `openkms server` with the official Alibaba Cloud SDKs (Python old and Tea, npm).
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh -k seed    extra arguments go to pytest (e.g. one e2e test)
#
# The e2e suite runs twice: on the embedded SQLite store, then with every server on a fresh
# PostgreSQL database ($OPENKMS_E2E_DATABASE_URL, an admin URL; default
# postgres://postgres@127.0.0.1:5432/test). Unreachable PostgreSQL skips that run loudly, or
# fails it when CI is set.
#
# The Rust tests run with a SoftHSM2 token directory of their own (scripts/softhsm-env.sh), so
# the PKCS#11 tests run against a real token; without SoftHSM2 they skip loudly (fail in CI).
#
# Needs: cargo, psql, python3 with the venv module, node >= 20 with npm, softhsm2. The e2e venv lives in
# target/e2e-venv; the npm suite installs into tests/e2e-npm/node_modules (npm ci).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "cargo build --locked --workspace --all-targets"
cargo build --locked --workspace --all-targets

# The tests that use the token share one SoftHSM2 token per test binary and run in parallel
# threads, as a server's requests do: the token keeps object searches apart from the making of
# objects, which SoftHSM2 2.6.1 needs (docs/custody.md; crates/pkcs11/tests/hsm_stress.rs).
step "cargo test --locked --workspace (with a SoftHSM2 token directory of its own)"
./scripts/softhsm-env.sh cargo test --locked --workspace

bin="$root/target/debug/openkms"
if [[ ! -x "$bin" ]]; then
    echo "error: $bin was not built" >&2
    exit 1
fi

venv="$root/target/e2e-venv"
req="$root/tests/e2e/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    step "python venv $venv (pip install -r tests/e2e/requirements.txt)"
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

step "pytest tests/e2e (OPENKMS_BIN=$bin)"
OPENKMS_BIN="$bin" "$venv/bin/python" -m pytest "$root/tests/e2e" -q "$@"

# The same suite again with every server on a fresh PostgreSQL database of its own (issue 7).
pg_admin="${OPENKMS_E2E_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_shown="$(printf '%s' "$pg_admin" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#')"
in_ci() { [[ -n "${CI:-}" && "${CI}" != "0" && "${CI,,}" != "false" ]]; }
if pg_err="$(PGCONNECT_TIMEOUT=5 psql "$pg_admin" -X -Atc 'SELECT 1' 2>&1 >/dev/null)"; then
    step "pytest tests/e2e on PostgreSQL (OPENKMS_E2E_DATABASE_URL=$pg_shown)"
    OPENKMS_E2E_DATABASE_URL="$pg_admin" OPENKMS_BIN="$bin" \
        "$venv/bin/python" -m pytest "$root/tests/e2e" -q "$@"
else
    pg_err="$(printf '%s' "${pg_err:-psql failed}" | tr -s '\n\t' '  ')"
    if in_ci; then
        echo "error: CI is set but PostgreSQL is not reachable at $pg_shown: $pg_err" >&2
        exit 1
    fi
    echo "!!!!!!!! SKIPPED: pytest tests/e2e on PostgreSQL -- not reachable at $pg_shown" \
         "($pg_err); set OPENKMS_E2E_DATABASE_URL to run it !!!!!!!!" >&2
fi

step "node --test tests/e2e-npm (npm SDK @alicloud/kms20160120; the console in Debian Chromium via playwright-core; OPENKMS_BIN=$bin)"
(cd tests/e2e-npm && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && OPENKMS_BIN="$bin" node --test)
