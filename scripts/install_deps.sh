#!/usr/bin/env bash
# Install every Debian package needed to build aepipe, fetch its data and run
# its tests. Idempotent: only missing packages are installed, and
# `apt-get update` runs (once) only if something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates curl
  libdnnl-dev ocl-icd-opencl-dev   # Debian's dnnl-config.cmake requires OpenCL; libdnnl-dev only recommends it
  libtbb-dev libyaml-cpp-dev libboost-program-options-dev
  libgtest-dev libpng-dev zlib1g-dev nlohmann-json3-dev
  dataset-fashion-mnist nodejs gzip
  chromium graphviz   # the browser test of report.html; graph.svg / aepipe graph --svg
  openmpi-bin libopenmpi-dev   # training across processes (mpirun); AEPIPE_MPI
  python3-numpy       # bench/pca_baseline.py
  clang-14 libclang-rt-14-dev libomp-14-dev   # scripts/sanitize.sh: ASan/UBSan/TSan builds, libFuzzer
)

is_installed() {
  local status
  status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

# npm: nodejs from nodesource bundles npm; only add Debian's npm if there is
# no npm at all (installing Debian npm would conflict with nodesource nodejs).
if ! command -v npm >/dev/null 2>&1; then
  is_installed npm || missing+=(npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps.sh: all dependencies already installed"
  exit 0
fi

echo "install_deps.sh: installing missing packages: ${missing[*]}"
SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install_deps.sh: error: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
echo "install_deps.sh: done"
