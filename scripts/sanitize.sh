#!/usr/bin/env bash
# Sanitizer and fuzzing checks (run by scripts/test.sh after the Release tests):
#   1. build-asan/ (clang-14, AddressSanitizer + UndefinedBehaviorSanitizer, objects also
#      instrumented for libFuzzer): the whole test suite, then each fuzz target for
#      FUZZ_SECONDS (default 20) from its seed corpus in tests/fuzz/corpus/<target>.
#   2. build-tsan/ (clang-14, ThreadSanitizer): the flow-graph tests whose nodes are plain C++.
# Any sanitizer report, fuzzer crash, leak, timeout or over-limit allocation fails the script.
# Env: FUZZ_SECONDS, SANITIZE_STEPS="asan fuzz tsan" (a subset runs only those steps).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "${SCRIPT_DIR}/lib.sh"
cd "${REPO_ROOT}"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
STEPS="${SANITIZE_STEPS:-asan fuzz tsan}"
JOBS="$(nproc)"
ASAN_DIR="${REPO_ROOT}/build-asan"
TSAN_DIR="${REPO_ROOT}/build-tsan"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=${REPO_ROOT}/tests/fuzz/lsan.supp:print_suppressions=0"

if [[ " ${STEPS} " == *" asan "* || " ${STEPS} " == *" fuzz "* ]]; then
  cmake -S . -B "${ASAN_DIR}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 -DAEPIPE_FUZZ=ON
  cmake --build "${ASAN_DIR}" -j"${JOBS}" --target aepipe aepipe_tests aepipe_fuzzers aepipe_loop aepipe_alloc_count
fi
if [[ " ${STEPS} " == *" asan "* ]]; then
  echo "== ASan+UBSan: the whole test suite"
  ctest --test-dir "${ASAN_DIR}" --output-on-failure -j"${JOBS}" -E '^Mpi\.'
  # The mpirun tests with leak checking off (ASan and UBSan stay fatal): Open MPI's plug-ins
  # leave memory behind at MPI_Finalize and are unloaded before LeakSanitizer reports, so the
  # leaks cannot even be named for a suppression (their frames show as <unknown module>).
  echo "== ASan+UBSan: the mpirun tests (no leak check: Open MPI's own leaks)"
  ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
    ctest --test-dir "${ASAN_DIR}" --output-on-failure -j"${JOBS}" -R '^Mpi\.'
fi
if [[ " ${STEPS} " == *" fuzz "* ]]; then
  work="$(mktemp -d /tmp/aepipe-fuzz.XXXXXX)"
  for src in tests/fuzz/fuzz_*.cpp; do
    target="$(basename "${src}" .cpp)"
    name="${target#fuzz_}"
    echo "== fuzz ${name}: ${FUZZ_SECONDS} s from tests/fuzz/corpus/${name}"
    mkdir -p "${work}/${name}"
    # New inputs go to the scratch corpus (first dir); the seeds are only read. Inputs are at
    # most 4 KiB; the most such a file justifies is a PNG: 1032:1 for deflate, times 32 for
    # 1-bit palette pixels expanded to RGBA (135 MiB). An allocation over 256 MiB is a finding.
    seeds=("tests/fuzz/corpus/${name}")
    [[ -d "tests/fuzz/regressions/${name}" ]] && seeds+=("tests/fuzz/regressions/${name}")
    rc=0
    "${ASAN_DIR}/tests/fuzz/${target}" -max_total_time="${FUZZ_SECONDS}" -max_len=4096 -timeout=30 \
      -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="${work}/${name}-" \
      "${work}/${name}" "${seeds[@]}" > "${work}/${name}.log" 2>&1 || rc=$?
    grep -E "^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|peak_rss_mb)" "${work}/${name}.log" || true
    if [[ ${rc} -ne 0 ]]; then
      tail -n 60 "${work}/${name}.log" >&2
      echo "fuzz ${name}: failed (exit ${rc}); the input is in ${work}/${name}-*" >&2
      exit 1
    fi
  done
  rm -rf "${work}"
fi
if [[ " ${STEPS} " == *" tsan "* ]]; then
  echo "== TSan: graph tests on plain C++ nodes"
  cmake -S . -B "${TSAN_DIR}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 -DAEPIPE_TSAN=ON
  cmake --build "${TSAN_DIR}" -j"${JOBS}" --target aepipe_tsan_tests
  ctest --test-dir "${TSAN_DIR}" --output-on-failure -R tsan_graph_tests
fi
echo "sanitize.sh: all clean"
