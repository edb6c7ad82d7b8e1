#!/usr/bin/env bash
# Installs the Debian packages the tests that need real services use, if missing.
# The chart-repository tests (tests/repo.rs):
#   docker-registry  a real OCI registry (distribution's `registry`, as /usr/bin/docker-registry);
#                    the tests start their own copy on 127.0.0.1 with storage in a temp dir
#   gnupg            gpg, to make a throwaway key and sign charts
#   python3          a loopback HTTP server for the chart repository
# The runtime tier (tests/runtime.rs), which runs the generated pods:
#   podman           `podman kube play` runs the rendered pods (as root, in a private store)
#   runc             the OCI runtime (crun refuses this sandbox's cgroup layout)
#   buildah          builds the test images from scratch (nothing is pulled from a registry)
#   busybox-static   the one binary in those images (a dynamic busybox would need its libraries)
#   netavark         podman's bridge network, so the host reaches the pod IPs as a node does
#   iptables         netavark's firewall rules
#   catatonit        the pause process of podman's pod infra containers
# Installed without recommends. Idempotent: does nothing when everything is there. Needs root
# (or sudo) and Debian's apt-get; otherwise it fails and says what to install by hand.
#
# The package's own system service is never started: Debian's postinst would start a registry
# listening on :5000 on every interface. When the machine has no /usr/sbin/policy-rc.d (Docker
# images do), one that refuses service starts is put there for the install and removed after.
set -euo pipefail

runtime_packages=(podman runc buildah busybox-static netavark iptables catatonit)

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if command -v dpkg-query >/dev/null 2>&1; then
  # By package: netavark, catatonit and busybox-static (not Debian's dynamic busybox, which
  # installs the same /bin/busybox) have no command of their own to look for on PATH.
  for pkg in "${runtime_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      need+=("$pkg")
  done
else
  for tool in podman runc buildah; do
    command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
  done
  [ -x /bin/busybox ] || need+=(busybox-static)
fi

if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi

fail() {
  echo "install-test-services: $*" >&2
  echo "install-test-services: the tests need: ${need[*]} (Debian packages)." >&2
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

for tool in docker-registry gpg python3 podman runc buildah; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is still missing after the install"
done
echo "install-test-services: ok ($(docker-registry --version 2>/dev/null | head -n1);" \
  "$(podman --version 2>/dev/null))" >&2
