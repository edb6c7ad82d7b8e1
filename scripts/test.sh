#!/usr/bin/env bash
# The project's test command (README "Set-up"; .ci/run calls exactly this).
# Installs the tools the tests need into .tools/ (cached), checks formatting and lints, then runs
# every test: unit tests, the bad-input corpus, and end-to-end tests with real helm 3 and 4.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-tools.sh
# shellcheck source=scripts/tools-env.sh
. scripts/tools-env.sh

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
