#!/usr/bin/env bash
# Shared helpers for scripts/test.sh and scripts/setup.sh. Source it; do not run.

# Repository root (this file lives in <repo>/scripts).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${REPO_ROOT}/build"

# Configure and build the project in Release mode into <repo>/build.
build_release() {
  cmake -S "${REPO_ROOT}" -B "${BUILD_DIR}" -DCMAKE_BUILD_TYPE=Release
  cmake --build "${BUILD_DIR}" -j"$(nproc)"
}
