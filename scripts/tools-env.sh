# Source me (do not execute):  . scripts/tools-env.sh
# Exports absolute paths to the test tools installed by scripts/install-test-tools.sh.
# Works from bash and zsh, and from a POSIX sh when sourced at the repo root.

if [ -n "${BASH_SOURCE:-}" ]; then
  _tools_env_self=${BASH_SOURCE[0]}
elif [ -n "${ZSH_VERSION:-}" ]; then
  # shellcheck disable=SC2296
  _tools_env_self=${(%):-%x}
else
  _tools_env_self=./scripts/tools-env.sh
fi
_tools_env_root=$(cd "$(dirname "$_tools_env_self")/.." && pwd)

export HELM3_BIN="$_tools_env_root/.tools/bin/helm3"
export HELM4_BIN="$_tools_env_root/.tools/bin/helm4"
export KUBERNETES_VALIDATE_BIN="$_tools_env_root/.tools/venv/bin/kubernetes-validate"
export CHECKOV_BIN="$_tools_env_root/.tools/venv/bin/checkov"
# The models of kinds defined by CRDs, one folder per family (scripts/k8s-models/validate.mjs).
export K8S_MODELS_DIR="$_tools_env_root/.tools/models"
# Keep checkov from calling its vendor's API for guideline mappings (it has no
# network here; without this it logs a warning with a traceback on every scan).
export BC_SKIP_MAPPING="${BC_SKIP_MAPPING:-TRUE}"

for _tools_env_bin in "$HELM3_BIN" "$HELM4_BIN" "$KUBERNETES_VALIDATE_BIN" "$CHECKOV_BIN"; do
  if [ ! -x "$_tools_env_bin" ]; then
    echo "tools-env: missing $_tools_env_bin (run scripts/install-test-tools.sh)" >&2
  fi
done
unset _tools_env_self _tools_env_root _tools_env_bin
