#!/usr/bin/env bash
# Build the plugin's release tarball for this machine's platform:
#
#   DIR/<os>-<arch>/k8s-service-<version>.tgz        (and, with --sign, the .tgz.prov beside it)
#
# `helm plugin install <URL of the .tgz>` installs it on Helm 3 and Helm 4 without a Rust
# toolchain (serve it as application/gzip; a downloaded copy installs once unpacked into a
# directory: neither helm installs this layout from a local .tgz). The archive holds plugin.yaml at its root, bin/helm-k8s-service,
# completion.yaml, plugin.complete, scripts/install-binary.sh and README.md; every directory
# entry comes before its files and there is no `./` entry (Helm 3's HTTP installer needs
# both). It is reproducible: entries sorted, one mtime (SOURCE_DATE_EPOCH, else 0), owner 0:0,
# modes 0755/0644, gzip without name or time.
#
# Usage: scripts/release-tarball.sh [--sign KEY [--keyring SECRING] [--passphrase-file F]] [--out DIR]
#   --out DIR          where to write (default: dist)
#   --sign KEY         also write <tgz>.prov, clear-signed by gpg with KEY (a user id or
#                      fingerprint). Helm 4 verifies it at install time.
#   --keyring SECRING  sign with the secret key(s) in this file (e.g. a legacy secring.gpg
#                      from `gpg --export-secret-keys`) instead of the default GnuPG home
#   --passphrase-file F  read the key's passphrase from F (gpg --pinentry-mode loopback)
# Env: CARGO_TARGET_DIR and the rest of cargo's settings are honoured; SOURCE_DATE_EPOCH.
# Prints the path of each file written.
set -euo pipefail

NAME=helm-k8s-service
PLUGIN=k8s-service

die() { printf 'release-tarball: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

out=dist
key=""
keyring=""
passfile=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --sign) [[ $# -ge 2 ]] || die "--sign needs a key"; key=$2; shift 2 ;;
    --sign=*) key=${1#*=}; shift ;;
    --keyring) [[ $# -ge 2 ]] || die "--keyring needs a file"; keyring=$2; shift 2 ;;
    --keyring=*) keyring=${1#*=}; shift ;;
    --passphrase-file) [[ $# -ge 2 ]] || die "--passphrase-file needs a file"; passfile=$2; shift 2 ;;
    --passphrase-file=*) passfile=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ -z "$keyring" || -n "$key" ]] || die "--keyring needs --sign KEY"
[[ -z "$passfile" || -n "$key" ]] || die "--passphrase-file needs --sign KEY"
[[ -z "$keyring" || -r "$keyring" ]] || die "cannot read the keyring $keyring"
[[ -z "$passfile" || -r "$passfile" ]] || die "cannot read the passphrase file $passfile"
[[ -z "$key" ]] || command -v gpg >/dev/null 2>&1 || die "--sign needs gpg (GnuPG) on PATH"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Made absolute before leaving the caller's directory.
[[ -z "$keyring" ]] || keyring=$(cd "$(dirname "$keyring")" && pwd)/$(basename "$keyring")
[[ -z "$passfile" ]] || passfile=$(cd "$(dirname "$passfile")" && pwd)/$(basename "$passfile")
cd "$root"

# ---- version: Cargo.toml's, which plugin.yaml must repeat --------------------------------------
version=$(sed -n '/^\[package\]/,/^\[/{s/^version *= *"\([^"]*\)".*/\1/p;}' Cargo.toml | head -n 1)
[[ -n "$version" ]] || die "no version in Cargo.toml's [package]"
pversion=$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' plugin.yaml)
[[ "$pversion" == "$version" ]] ||
  die "plugin.yaml has version '$pversion' but Cargo.toml has '$version'; they must be equal"

# ---- platform, in Go's GOOS/GOARCH words (what helm and its users call them) -------------------
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$os" in
  linux | darwin | freebsd | openbsd | netbsd) ;;
  mingw* | msys* | cygwin*) os=windows ;;
  *) die "unsupported OS: $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  armv7* | armv6*) arch=arm ;;
  i386 | i686) arch=386 ;;
  ppc64le) arch=ppc64le ;;
  s390x) arch=s390x ;;
  riscv64) arch=riscv64 ;;
  *) die "unsupported architecture: $(uname -m)" ;;
esac

epoch=${SOURCE_DATE_EPOCH:-0}
[[ "$epoch" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number of seconds, got '$epoch'"
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (on macOS: brew install gnu-tar, put its gnubin first on PATH)"
[[ -z "$key" || "$(tail -c 1 plugin.yaml | od -An -c | tr -d ' ')" == '\n' ]] ||
  die "plugin.yaml must end with a newline (the .prov body relies on it)"

# ---- build ---------------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust from https://rustup.rs)"
work=$(mktemp -d "${TMPDIR:-/tmp}/release-tarball.XXXXXX")
gnupghome=""
cleanup() {
  if [[ -n "$gnupghome" ]]; then
    GNUPGHOME=$gnupghome gpgconf --kill all >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The binary the install hook would build (scripts/build-release.sh: glibc linked in on Linux,
# so the tarball runs whatever glibc the user's machine has).
exe=$(sh scripts/build-release.sh) || die "building the binary failed (see above)"
[[ -n "$exe" && -x "$exe" ]] || die "cargo did not report the $NAME executable"
got=$("$exe" --version) || die "$exe --version failed"
[[ "$got" == *" $version" ]] || die "$exe --version says '$got', want version $version"
"$exe" __completion-yaml | cmp -s - completion.yaml ||
  die "completion.yaml is stale: run \`cargo run -- __completion-yaml > completion.yaml\`"

# ---- stage and archive ---------------------------------------------------------------------------
stage="$work/stage"
mkdir -p "$stage/bin" "$stage/scripts"
install -m 0644 plugin.yaml completion.yaml README.md "$stage/"
install -m 0755 plugin.complete "$stage/"
install -m 0755 "$exe" "$stage/bin/$NAME"
install -m 0755 scripts/install-binary.sh "$stage/scripts/"
chmod 0755 "$stage" "$stage/bin" "$stage/scripts"

# Every entry, directories with a trailing slash, in byte order: a directory sorts right before
# its own files.
(cd "$stage" && find . -mindepth 1 \( -type d -printf '%P/\n' \) -o \( -type f -printf '%P\n' \)) |
  LC_ALL=C sort >"$work/entries"

tar -C "$stage" --format=ustar --no-recursion --owner=0 --group=0 --numeric-owner \
  --mtime="@$epoch" -cf "$work/plugin.tar" -T "$work/entries"
gzip -n -9 <"$work/plugin.tar" >"$work/plugin.tgz"

dest_dir="$out/$os-$arch"
tgz="$dest_dir/$PLUGIN-$version.tgz"

# ---- provenance: what `helm plugin package --sign` writes, made with gpg -----------------------
if [[ -n "$key" ]]; then
  gpg_args=(--batch --yes --armor --clearsign --digest-algo SHA512 --local-user "$key")
  if [[ -n "$keyring" ]]; then
    gnupghome="$work/gnupg"
    mkdir -m 0700 "$gnupghome"
    GNUPGHOME=$gnupghome gpg --batch --quiet --import "$keyring" 2>"$work/import.err" ||
      { cat "$work/import.err" >&2; die "cannot import $keyring"; }
  fi
  if [[ -n "$passfile" ]]; then
    gpg_args+=(--pinentry-mode loopback --passphrase-file "$passfile")
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    sum=$(sha256sum "$work/plugin.tgz" | cut -d' ' -f1)
  else
    sum=$(shasum -a 256 "$work/plugin.tgz" | cut -d' ' -f1)
  fi
  {
    cat plugin.yaml
    # plugin.yaml ends with a newline, so this is the "\n...\n" separator helm splits on.
    printf '...\n'
    printf 'files:\n  %s: sha256:%s\n' "$(basename "$tgz")" "$sum"
  } >"$work/prov-body"
  (
    [[ -z "$gnupghome" ]] || export GNUPGHOME=$gnupghome
    gpg "${gpg_args[@]}" --output "$work/plugin.tgz.prov" "$work/prov-body"
  ) || die "gpg could not sign with key '$key'"
fi

# ---- publish: nothing is written to DIR until everything above has worked ---------------------
mkdir -p "$dest_dir"
mv -f "$work/plugin.tgz" "$tgz"
echo "$tgz"
if [[ -n "$key" ]]; then
  mv -f "$work/plugin.tgz.prov" "$tgz.prov"
  echo "$tgz.prov"
else
  # A .prov from an earlier signed run would not match this archive.
  rm -f "$tgz.prov"
fi
