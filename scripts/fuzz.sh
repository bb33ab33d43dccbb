#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ on the committed corpus and fails on any crash, panic,
# timeout or out-of-memory (issue 13). docs/fuzzing.md says what each target checks.
#
#   scripts/fuzz.sh                 every target for FUZZ_SECONDS (default 12) each, as CI does
#   scripts/fuzz.sh auth policy     only these targets
#   FUZZ_RUNS=10000000 nice -n 19 scripts/fuzz.sh
#                                   the long form: that many executions per target, unbounded
#                                   in time; each target's figures are appended to
#                                   target/fuzz/figures.tsv for docs/fuzzing.md
#
# One libFuzzer process per target, one after another (no -jobs/-workers fork): the machine's
# cores are shared. New inputs go to target/fuzz/corpus/<target>, never into the committed
# fuzz/corpus; a crashing input is kept in fuzz/artifacts/<target>/ and named in the output.
# Needs rustup; installs the nightly toolchain and cargo-fuzz (pinned) when they are missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CARGO_FUZZ_VERSION="0.13.1"
seconds="${FUZZ_SECONDS:-12}"
runs="${FUZZ_RUNS:-}"
work="$root/target/fuzz"
figures="$work/figures.tsv"

step() { printf '\n==> %s\n' "$*"; }

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    step "rustup toolchain install nightly --profile minimal"
    rustup toolchain install nightly --profile minimal
fi
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    step "cargo install --locked cargo-fuzz@$CARGO_FUZZ_VERSION"
    cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

# No sanitizer: the code under test is safe Rust (unsafe_code is forbidden), so what can fail
# is a panic, an overflow or debug assertion (cargo-fuzz builds with both on), a timeout or
# memory; ASan would halve the speed and find nothing more in it.
build=(cargo +nightly fuzz build --sanitizer none)
step "${build[*]} (in fuzz/)"
(cd fuzz && "${build[@]}")

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

mkdir -p "$work"
if [[ -n "$runs" ]]; then
    limit=(-runs="$runs")
    [[ -f "$figures" ]] || printf 'target\texecutions\tseconds\texec_per_s\tcorpus_files\tcorpus_bytes\tcoverage\n' > "$figures"
else
    limit=(-max_total_time="$seconds")
fi

failed=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    log="$work/$target.log"
    mkdir -p "$corpus"
    step "fuzz $target (${limit[*]}; log $log)"
    started=$(date +%s)
    if (cd fuzz && cargo +nightly fuzz run --sanitizer none "$target" "$corpus" "corpus/$target" \
            -- "${limit[@]}" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1; then
        elapsed=$(( $(date +%s) - started ))
        done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
        echo "ok: $target in ${elapsed}s: ${done_line:-no final line}"
        if [[ -n "$runs" ]]; then
            execs="$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)"
            cov="$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$done_line")"
            files="$(find "$corpus" -type f | wc -l)"
            bytes="$(du -sb "$corpus" | cut -f1)"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$execs" "$elapsed" \
                "$(( execs / (elapsed > 0 ? elapsed : 1) ))" "$files" "$bytes" "${cov:-?}" >> "$figures"
        fi
    else
        echo "FAILED: $target; the end of its log:" >&2
        tail -n 40 "$log" >&2
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "error: fuzz targets failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash"
