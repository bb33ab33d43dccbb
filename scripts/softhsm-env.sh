#!/usr/bin/env bash
# Runs a command with a SoftHSM2 of its own: a fresh token directory in a temporary
# directory, SOFTHSM2_CONF pointing at a configuration that uses it, and
# OPENKMS_TEST_PKCS11_MODULE set to the SoftHSM2 module (unless already set: then that module
# is used as it is, and SOFTHSM2_CONF is left alone). The PKCS#11 tests (Rust and e2e) make
# their own tokens in it; nothing outside the temporary directory is touched.
#
#   ./scripts/softhsm-env.sh cargo test -p openkms-pkcs11
#
# Without SoftHSM2 (Debian: apt-get install softhsm2) the command runs unchanged and the
# PKCS#11 tests skip loudly.
set -euo pipefail

module="${OPENKMS_TEST_PKCS11_MODULE:-}"
if [[ -z "$module" ]]; then
    for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
                     /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
        if [[ -f "$candidate" ]]; then module="$candidate"; break; fi
    done
    if [[ -n "$module" ]]; then
        dir="$(mktemp -d "${TMPDIR:-/tmp}/openkms-softhsm.XXXXXX")"
        trap 'rm -rf "$dir"' EXIT
        mkdir -p "$dir/tokens"
        printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
            "$dir" > "$dir/softhsm2.conf"
        export SOFTHSM2_CONF="$dir/softhsm2.conf"
        export OPENKMS_TEST_PKCS11_MODULE="$module"
    fi
fi
"$@"
