#!/usr/bin/env bash
# The project's test command (README "Set-up"; .ci/run calls exactly this).
# Installs the tools the tests need into .tools/ (cached), checks formatting and lints, then runs
# every test: unit tests, the bad-input corpus, and end-to-end tests with real helm 3 and 4,
# then a short bounded run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-tools.sh
# Debian packages (apt, idempotent): a real OCI registry and gnupg for the repository tests;
# podman, buildah, runc and busybox-static for the runtime tier (tests/runtime.rs, as root).
scripts/install-test-services.sh
# shellcheck source=scripts/tools-env.sh
. scripts/tools-env.sh

cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
# Every fuzz target for 5 s (the first run builds them, about 2 minutes); scripts/fuzz.sh
# SECONDS runs them longer.
scripts/fuzz.sh 5
# The benchmark at tiny sizes, so it cannot rot (no timing is asserted; scripts/bench.py runs it
# at full size and prints the table for the README).
python3 scripts/bench.py --smoke > /dev/null
