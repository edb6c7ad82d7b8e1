#!/usr/bin/env bash
# Build the image of the Argo CD plugin sidecar (gitops/argocd/repo-server-patch.yaml) with
# buildah, from scratch: this project's binary, helm, the shared libraries the binary needs (read
# with ldd from the machine that built it), a passwd entry for Argo CD's user 999 and the plugin
# file at /home/argocd/cmp-server/config/plugin.yaml. No base image, no shell, no package
# manager: nothing to patch but the two programs. Argo CD's own server
# (/var/run/argocd/argocd-cmp-server) comes from the repo-server's shared volume at run time.
#
# Usage: gitops/sidecar/build.sh --binary PATH --helm PATH --tag IMAGE[:TAG]
#   --binary  helm-k8s-service, built for the image's architecture (scripts/build-release.sh,
#             static with glibc linked in, needs no library; a dynamic build brings its own)
#   --helm    a helm binary (v3.17+ or v4), statically linked as helm's releases are
# buildah honours CONTAINERS_CONF and CONTAINERS_STORAGE_CONF (the tests use a private store).
# Push the result with `buildah push IMAGE docker://REGISTRY/...` and pin it by digest.
set -euo pipefail

binary='' helm='' tag=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --binary) binary=$2; shift 2;;
    --helm) helm=$2; shift 2;;
    --tag) tag=$2; shift 2;;
    -h|--help) sed -n '2,14p' "$0"; exit 0;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 1;;
  esac
done
[[ -n $binary && -n $helm && -n $tag ]] || { echo "build.sh: --binary, --helm and --tag are required" >&2; exit 1; }
for f in "$binary" "$helm"; do [[ -x $f ]] || { echo "build.sh: $f is not an executable file" >&2; exit 1; }; done
command -v buildah >/dev/null || { echo "build.sh: buildah is not installed (Debian: apt-get install buildah)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
plugin="$here/../argocd/plugin.yaml"

root=$(mktemp -d)
ctr=''
cleanup() { [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1; rm -rf "$root"; }
trap cleanup EXIT

install -D -m 0755 "$binary" "$root/usr/local/bin/helm-k8s-service"
install -D -m 0755 "$helm" "$root/usr/local/bin/helm"
# The dynamic loader and every library the binary names, at the paths it looks them up.
while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
if ldd "$helm" >/dev/null 2>&1; then
  echo "build.sh: $helm is dynamically linked; use helm's static release binary" >&2; exit 1
fi
install -D -m 0644 "$plugin" "$root/home/argocd/cmp-server/config/plugin.yaml"
mkdir -p "$root/etc" "$root/tmp" "$root/home/argocd/cmp-server/plugins"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nargocd:x:999:999:Argo CD:/home/argocd:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nargocd:x:999:\n' >"$root/etc/group"

ctr=$(buildah from scratch)
buildah copy --quiet "$ctr" "$root/" / >/dev/null
buildah config \
  --user 999:999 \
  --workingdir /home/argocd \
  --env PATH=/usr/local/bin \
  --env HOME=/home/argocd \
  --env HELM_CACHE_HOME=/tmp/helm/cache \
  --env HELM_CONFIG_HOME=/tmp/helm/config \
  --env HELM_DATA_HOME=/tmp/helm/data \
  --cmd '["/var/run/argocd/argocd-cmp-server"]' \
  --label org.opencontainers.image.title=argocd-k8s-service \
  --label org.opencontainers.image.description="Argo CD plugin sidecar: helm k8s-service and helm" \
  "$ctr"
buildah commit --quiet --rm "$ctr" "$tag" >/dev/null
ctr=''
echo "$tag"
