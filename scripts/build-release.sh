#!/bin/sh
# Build the release binary of helm-k8s-service, the one the plugin ships, and print its path.
# install-binary.sh (the plugin's install hook), release-tarball.sh and scripts/bench.py all
# build it here, so what is benchmarked is what is installed.
#
# Usage: sh scripts/build-release.sh [more `cargo build` arguments]
#   The executable's path goes to stdout; cargo's messages go to stderr as usual. CARGO names
#   the cargo to run (default: cargo on PATH); CARGO_TARGET_DIR and cargo's other settings are
#   honoured. Exit status: cargo's when the build fails, 3 when it names no executable.
#
# On Linux with glibc, when the C toolchain has glibc's static libraries (Debian's libc6-dev
# does; Fedora needs glibc-static), glibc is linked in: a static PIE, still placed at a random
# address. Each `package` is one process, and without the dynamic loader a start maps and
# relocates no libraries: on the 2-core benchmark machine `--version` took 1.25 ms instead of
# 1.69 and `package examples/full.yaml` 4.35 ms instead of 4.90 (medians of alternating runs).
# The binary also runs on any Linux of its architecture, whatever glibc it has. The crate uses
# nothing glibc would load at run time (no user or host name lookups, no iconv).
# cargo needs --target for this: the flag (target.<triple>.rustflags) must not reach the
# proc-macros and build scripts, which are built for the host without it. RUSTFLAGS set by the
# caller replace it (cargo's precedence). Elsewhere: a plain `cargo build --release`.
set -eu

NAME=helm-k8s-service
dir=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-cargo}

host=$("$cargo" -vV | sed -n 's/^host: //p')
case $host in
  *-linux-gnu*)
    cc=${CC:-cc}
    libc_a=$("$cc" -print-file-name=libc.a 2>/dev/null || true)
    eh_a=$("$cc" -print-file-name=libgcc_eh.a 2>/dev/null || true)
    case "$libc_a:$eh_a" in
      /*:/*)
        var=CARGO_TARGET_$(printf '%s' "$host" | tr 'a-z.-' 'A-Z__')_RUSTFLAGS
        eval "flags=\${$var:-}"
        export "$var=${flags:+$flags }-C target-feature=+crt-static"
        set -- --target "$host" "$@"
        ;;
    esac
    ;;
esac

json=$(mktemp "${TMPDIR:-/tmp}/build-release.XXXXXX")
trap 'rm -f "$json"' EXIT
# The JSON messages name the executable wherever the target directory is; diagnostics are
# still rendered for people on stderr.
(cd "$dir" && "$cargo" build --release --locked --bin "$NAME" \
  --message-format=json-render-diagnostics "$@" >"$json")
exe=$(sed -n "s/.*\"executable\":\"\\([^\"]*\\/$NAME\\)\".*/\\1/p" "$json" | tail -n 1)
if [ -z "$exe" ] || [ ! -f "$exe" ]; then
  # Exit 3, not 1: the build did not fail, so callers should not say it did.
  echo "build-release.sh: cargo build succeeded but did not report the $NAME executable" >&2
  exit 3
fi
printf '%s\n' "$exe"
