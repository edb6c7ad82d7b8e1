#!/usr/bin/env bash
# Installs the Debian packages the chart-repository tests (tests/repo.rs) need, if missing:
#   docker-registry  a real OCI registry (distribution's `registry`, as /usr/bin/docker-registry);
#                    the tests start their own copy on 127.0.0.1 with storage in a temp dir
#   gnupg            gpg, to make a throwaway key and sign charts
#   python3          a loopback HTTP server for the chart repository
# Idempotent: does nothing when every tool is there. Needs root (or sudo) and Debian's apt-get;
# otherwise it fails and says what to install by hand.
#
# The package's own system service is never started: Debian's postinst would start a registry
# listening on :5000 on every interface. When the machine has no /usr/sbin/policy-rc.d (Docker
# images do), one that refuses service starts is put there for the install and removed after.
set -euo pipefail

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v python3 >/dev/null 2>&1 || need+=(python3)

if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi

fail() {
  echo "install-test-services: $*" >&2
  echo "install-test-services: the repository tests need: ${need[*]} (Debian packages)." >&2
  echo "install-test-services: install them by hand (apt-get install ${need[*]}), then rerun." >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not a Debian-based system)"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    fail "not root, and sudo is not available without a password"
  fi
fi

policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
  if [ "$made_policy" -eq 1 ]; then
    "${sudo[@]}" rm -f "$policy"
  fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from install-test-services.sh: start no services\nexit 101\n' |
    "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 0755 "$policy"
  made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-test-services: installing ${need[*]}" >&2
install() {
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${need[@]}"
}
# Try without refreshing the package lists first (fast when they are current), then refresh.
if ! install >/dev/null 2>&1; then
  "${sudo[@]}" apt-get update -q >&2 || fail "apt-get update failed"
  install >&2 || fail "apt-get install ${need[*]} failed"
fi

for tool in docker-registry gpg python3; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is still missing after the install"
done
echo "install-test-services: ok ($(docker-registry --version 2>/dev/null | head -n1))" >&2
