#!/usr/bin/env bash
# Shared helpers for scripts/test.sh and scripts/setup.sh. Source it; do not run.

# Repository root (this file lives in <repo>/scripts).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${REPO_ROOT}/build"

# Configure and build the project in Release mode into <repo>/build: the given targets
# (setup.sh: just `aepipe`, about half the build), or everything (test.sh).
build_release() {
  cmake -S "${REPO_ROOT}" -B "${BUILD_DIR}" -DCMAKE_BUILD_TYPE=Release
  local targets=()
  [[ $# -gt 0 ]] && targets=(--target "$@")
  cmake --build "${BUILD_DIR}" -j"$(nproc)" "${targets[@]}"
}
