#!/usr/bin/env bash
# The size rule of STYLE.md: no function body over 60 lines, no class or struct over 250.
# Scans the project's C++ sources: pipeline/ (with cli/ and report/), nodes/, formats/ and
# bench/*.cpp. tests/ is left out: a test file's fixtures and tables are data rather than
# logic, and a long TEST body reads as one scenario; the rule is for the code a reader must
# follow. Each offender is named FILE:LINE (the line of its opening brace) with its size.
# The scan (scripts/check_sizes.py) matches braces after blanking comments, string literals
# and preprocessor lines; it does not parse C++: a function with a trailing return type
# (`auto f() -> T {`) or a class declared through a macro is not recognised, and a function
# split across #if branches may be miscounted.
# Usage: check_sizes.sh [ROOT]   (default: the repository)
# Exit: 0 clean, 1 an offender.
set -euo pipefail
root="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${root}"
mapfile -t files < <(find pipeline nodes formats -name '*.cpp' -o -name '*.hpp' 2>/dev/null | sort
                     find bench -maxdepth 1 -name '*.cpp' 2>/dev/null | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "check_sizes: no C++ sources under ${root}" >&2
  exit 2
fi
if python3 "${here}/check_sizes.py" --max-func 60 --max-class 250 "${files[@]}"; then
  echo "check_sizes: ${#files[@]} files, every function <= 60 lines and class <= 250"
else
  echo "check_sizes: split the functions and classes named above (STYLE.md, Sizes)" >&2
  exit 1
fi
