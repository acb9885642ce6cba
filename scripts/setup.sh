#!/usr/bin/env bash
# The single "get started" command: install deps, build Release, fetch MNIST,
# then train the MNIST autoencoder. Extra arguments are passed to `aepipe run`.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "${SCRIPT_DIR}/lib.sh"

bash "${SCRIPT_DIR}/install_deps.sh"
build_release aepipe   # the tests are built by scripts/test.sh
bash "${SCRIPT_DIR}/fetch_mnist.sh"
cd "${REPO_ROOT}"
exec "${BUILD_DIR}/aepipe" run configs/mnist_ae.yaml "$@"
