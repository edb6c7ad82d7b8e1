#!/usr/bin/env bash
# The project's test command (README "Set-up"; .ci/run calls exactly this).
# Installs the tools the tests need into .tools/ (cached), checks formatting and lints, then runs
# every test: unit tests, the bad-input corpus, and end-to-end tests with real helm 3 and 4,
# then a short bounded run of each fuzz target.
#
#   scripts/test.sh           everything (what CI runs)
#   scripts/test.sh --quick   the inner loop: fmt, clippy, the unit tests and the test files that
#                             check what the charts contain (cli, bad_specs, spec_schema,
#                             authoring, deploy, plan, contracts, e2e_helm, security, overrides) with the
#                             real helms; skips
#                             the plugin install/release builds (plugin.rs), chart repositories
#                             and the OCI registry (repo.rs), the pods run by podman
#                             (runtime.rs), fault injection (faults.rs), the property tests
#                             (property.rs), the fuzzers and the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

# One build per run: incremental compilation only costs time and disk (about 400 MB) here.
export CARGO_INCREMENTAL=0

scripts/install-test-tools.sh
if [ "$quick" -eq 0 ]; then
  # Debian packages (apt, idempotent): a real OCI registry and gnupg for the repository tests;
  # podman, buildah, runc and busybox-static for the runtime tier (tests/runtime.rs, as root).
  scripts/install-test-services.sh
fi
# shellcheck source=scripts/tools-env.sh
. scripts/tools-env.sh

cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --locked --all-targets -- -D warnings
# The layout rules: no import cycle among src/ files, none over 600 lines.
python3 scripts/check-layout.py

if [ "$quick" -eq 1 ]; then
  cargo test --locked --lib --bins \
    --test cli --test bad_specs --test spec_schema --test authoring --test deploy \
    --test plan --test contracts --test e2e_helm --test security --test ingress_hosts \
    --test gitops --test overrides --test diagnostics --test traffic \
    --test autoscaling --test observability
  exit 0
fi

cargo test --locked
# Every fuzz target for 5 s (the first run builds them, about 2 minutes); scripts/fuzz.sh
# SECONDS runs them longer.
scripts/fuzz.sh 5
# The benchmark at tiny sizes, so it cannot rot (no timing is asserted; scripts/bench.py runs it
# at full size and prints the table for the README).
python3 scripts/bench.py --smoke > /dev/null
