#!/usr/bin/env bash
# The project's single test command: install deps, build Release, check the include direction
# of the layers (check_layers.sh) and the size rule (check_sizes.sh), run ctest, then the
# sanitizer builds and short fuzz runs (scripts/sanitize.sh).
# Exit code is ctest's (or that of the first failing step).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "${SCRIPT_DIR}/lib.sh"

bash "${SCRIPT_DIR}/install_deps.sh"
build_release
cd "${REPO_ROOT}"
# The include direction of the layers (ARCHITECTURE.md), from the build's dependency files.
bash "${SCRIPT_DIR}/check_layers.sh" "${REPO_ROOT}" "${BUILD_DIR}"
# The size rule (STYLE.md): functions <= 60 lines, classes <= 250.
bash "${SCRIPT_DIR}/check_sizes.sh" "${REPO_ROOT}"
ctest --test-dir "${BUILD_DIR}" --output-on-failure -j"$(nproc)"
# ASan+UBSan suite, 10 s per fuzz target (5 targets), TSan graph tests; the whole script takes
# about 27 minutes on 2 cores from a clean clone (Release ~8, sanitizer builds and runs ~19).
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash "${SCRIPT_DIR}/sanitize.sh"
