#!/usr/bin/env bash
# The test command of openkms: Rust build + unit/integration tests, then the end-to-end suite
# that drives `openkms server` with the official Alibaba Cloud SDKs (Python old and Tea, npm).
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh -k seed    extra arguments go to pytest (e.g. one e2e test)
#
# Needs: cargo, python3 with the venv module, node >= 20 with npm. The e2e venv lives in
# target/e2e-venv; the npm suite installs into tests/e2e-npm/node_modules (npm ci).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "cargo build --locked --workspace --all-targets"
cargo build --locked --workspace --all-targets

step "cargo test --locked --workspace"
cargo test --locked --workspace

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

step "node --test tests/e2e-npm (npm SDK @alicloud/kms20160120, OPENKMS_BIN=$bin)"
(cd tests/e2e-npm && npm ci --no-audit --no-fund && OPENKMS_BIN="$bin" node --test)
