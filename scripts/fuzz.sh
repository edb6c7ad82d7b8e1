#!/usr/bin/env bash
# Run every fuzz target in fuzz/ for a bounded time (cargo-fuzz + libFuzzer).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  time per target (default 60); scripts/test.sh runs 5 per target
#   TARGET   only these targets (default: all of `cargo fuzz list`)
# Env:
#   CARGO_FUZZ      the cargo-fuzz binary (default .tools/cargo-fuzz/bin/cargo-fuzz, then PATH)
#   FUZZ_TOOLCHAIN  a rustup toolchain to use (e.g. nightly); default: the active toolchain
#                   with RUSTC_BOOTSTRAP=1, which lets a stable compiler take the -Z flags
#                   cargo-fuzz passes, so this works on a machine with stable only
#   FUZZ_SANITIZER  none (default: safe Rust, and fastest) or address
#   FUZZ_JOBS       libFuzzer workers per target (default 1)
#
# Seeds come from fuzz/corpus/<target>/ (committed, read only; spec_validate also reads examples/
# and tests/bad-specs/); what a run discovers goes to
# fuzz/target/new-corpus/<target>/ (ignored by git). A crash stops the run with exit code 1 and
# leaves its input in fuzz/artifacts/<target>/; replay it with
#   RUSTC_BOOTSTRAP=1 .tools/cargo-fuzz/bin/cargo-fuzz run --fuzz-dir fuzz -s none -a TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number, got '$secs'" >&2; exit 2; }

cargo_fuzz=${CARGO_FUZZ:-}
if [[ -z "$cargo_fuzz" ]]; then
  if [[ -x .tools/cargo-fuzz/bin/cargo-fuzz ]]; then
    cargo_fuzz=.tools/cargo-fuzz/bin/cargo-fuzz
  elif command -v cargo-fuzz >/dev/null 2>&1; then
    cargo_fuzz=cargo-fuzz
  else
    echo "fuzz.sh: cargo-fuzz not found; run scripts/install-test-tools.sh" >&2
    exit 1
  fi
fi

fuzz() {
  if [[ -n "${FUZZ_TOOLCHAIN:-}" ]]; then
    RUSTUP_TOOLCHAIN="$FUZZ_TOOLCHAIN" "$cargo_fuzz" "$@"
  else
    RUSTC_BOOTSTRAP=1 "$cargo_fuzz" "$@"
  fi
}

sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}
if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  mapfile -t targets < <(fuzz list --fuzz-dir fuzz)
fi

# Build once (with debug assertions, so overflows panic), then run each target.
fuzz build --fuzz-dir fuzz -s "$sanitizer" -a

status=0
for t in "${targets[@]}"; do
  new=fuzz/target/new-corpus/$t
  mkdir -p "$new" "fuzz/corpus/$t"
  # Extra read-only seeds: the example specs and the bad-input corpus for the spec target.
  seeds=("fuzz/corpus/$t")
  [[ "$t" == spec_validate ]] && seeds+=(examples tests/bad-specs)
  extra=()
  [[ -f "fuzz/dict/$t.dict" ]] && extra+=("-dict=fuzz/dict/$t.dict")
  [[ "$jobs" -gt 1 ]] && extra+=("-jobs=$jobs" "-workers=$jobs")
  echo "fuzz.sh: $t for ${secs}s"
  if ! fuzz run --fuzz-dir fuzz -s "$sanitizer" -a "$t" "$new" "${seeds[@]}" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 "${extra[@]}" \
      >"fuzz/target/$t.log" 2>&1; then
    echo "fuzz.sh: $t FAILED (see fuzz/target/$t.log and fuzz/artifacts/$t/):" >&2
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "fuzz/target/$t.log" | head -20 >&2 || tail -20 "fuzz/target/$t.log" >&2
    status=1
    continue
  fi
  runs=$(awk '/stat::number_of_executed_units:/ {n += $2} END {print n + 0}' "fuzz/target/$t.log")
  echo "fuzz.sh: $t ok ($runs runs, $(find "$new" -type f | wc -l) new inputs in $new)"
done
exit $status
