#!/bin/sh
# Put the plugin's binary in place: <plugin dir>/bin/helm-k8s-service.
#
# Usage: sh scripts/install-binary.sh [-u]
#   Run by helm's install hook (no argument) and update hook (-u); runs by hand too.
#
#   - bin/helm-k8s-service is there, runs and has plugin.yaml's version: nothing to do.
#     With -u, it is rebuilt first if any source (Cargo.toml, Cargo.lock, src/,
#     chart-template/, schema/) is newer.
#   - else, in a source checkout with cargo: `cargo build --release --locked` through
#     scripts/build-release.sh (glibc linked in on Linux; CARGO_TARGET_DIR and cargo's other
#     settings are honoured), then the binary is copied to bin/.
#   - else: says what is missing and how to get it, and exits 1.
#
# Helm 4 gives hooks nothing but HELM_PLUGIN_NAME and HELM_PLUGIN_DIR on top of the
# caller's environment, so this script needs neither: it finds the plugin from its own path.
set -eu

NAME=helm-k8s-service

update=0
case "${1:-}" in
  "") ;;
  -u | --update) update=1 ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-binary.sh: unknown argument: $1 (usage: install-binary.sh [-u])" >&2; exit 2 ;;
esac

dir=$(cd "$(dirname "$0")/.." && pwd)
bin="$dir/bin/$NAME"

say() { printf 'k8s-service: %s\n' "$*"; }

runs() { [ -f "$bin" ] && [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; }

is_checkout() { [ -f "$dir/Cargo.toml" ] && [ -d "$dir/src" ]; }

# The first source file newer than the binary, if any.
newer_source() {
  for p in Cargo.toml Cargo.lock build.rs src chart-template schema; do
    [ -e "$dir/$p" ] || continue
    f=$(find "$dir/$p" -type f -newer "$bin" -print 2>/dev/null | head -n 1)
    if [ -n "$f" ]; then
      printf '%s\n' "${f#"$dir"/}"
      return 0
    fi
  done
  return 1
}

find_cargo() {
  if command -v cargo >/dev/null 2>&1; then
    command -v cargo
    return 0
  fi
  # rustup's default place; hooks may run without a login shell's PATH.
  c="${CARGO_HOME:-${HOME:-/nonexistent}/.cargo}/bin/cargo"
  if [ -x "$c" ]; then
    printf '%s\n' "$c"
    return 0
  fi
  return 1
}

platform() { printf '%s %s' "$(uname -s 2>/dev/null || echo '?')" "$(uname -m 2>/dev/null || echo '?')"; }

cannot() {
  {
    printf 'k8s-service: cannot install the plugin: %s\n' "$1"
    if is_checkout; then
      printf 'Either:\n'
      printf '  - install Rust from https://rustup.rs (cargo must be on PATH), then run\n'
      printf '      sh "%s/scripts/install-binary.sh"\n' "$dir"
      printf '    (or uninstall and install the plugin again); or\n'
      printf '  - install a release tarball for your platform instead of the sources:\n'
    else
      printf 'Uninstall it (helm plugin uninstall k8s-service), then install the release tarball\n'
      printf 'for your platform (or a clone of the sources, with Rust):\n'
    fi
    printf '      helm plugin install <URL of k8s-service-<version>.tgz>\n'
    printf '    (README, "Installing the plugin"; Helm 4 also wants --keyring or --verify=false).\n'
  } >&2
  exit 1
}

build() {
  cargo=$(find_cargo) || cannot "$NAME is not built and cargo (Rust's build tool) was not found on PATH or in ${CARGO_HOME:-\$HOME/.cargo}/bin."
  say "building $NAME with $cargo build --release --locked (scripts/build-release.sh; the first build takes a minute or two)"
  mkdir -p "$dir/bin"
  tmp="$dir/bin/.$NAME.$$"
  trap 'rm -f "$tmp"' EXIT
  status=0
  exe=$(CARGO="$cargo" sh "$dir/scripts/build-release.sh") || status=$?
  if [ "$status" -ne 0 ]; then
    # 3: cargo built but named no executable, which build-release.sh has said.
    [ "$status" -eq 3 ] ||
      printf 'k8s-service: cargo build failed (see above). This crate needs Rust %s or newer: rustup update\n' \
        "$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$dir/Cargo.toml")" >&2
    exit 1
  fi
  cp "$exe" "$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$bin"
  runs || { echo "k8s-service: the built $bin does not run" >&2; exit 1; }
  say "installed $("$bin" --version) at $bin"
}

if runs; then
  # A binary left from an older checkout (plugin.yaml's version moved on) is rebuilt too.
  want=$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$dir/plugin.yaml" 2>/dev/null || true)
  have=$("$bin" --version 2>/dev/null | sed -n 's/^k8s-service //p')
  if is_checkout && [ -n "$want" ] && [ "$have" != "$want" ]; then
    say "bin/$NAME is version ${have:-unknown}, plugin.yaml says $want: rebuilding"
    build
  elif [ "$update" = 1 ] && is_checkout && changed=$(newer_source); then
    say "$changed is newer than $NAME: rebuilding"
    build
  else
    say "$("$bin" --version) is ready ($bin)"
  fi
  exit 0
fi

if is_checkout; then
  if [ -e "$bin" ]; then
    say "$bin does not run on this machine ($(platform)); replacing it"
  fi
  build
  exit 0
fi
cannot "$bin is missing or does not run on $(platform), and this plugin directory has no sources to build it from."
