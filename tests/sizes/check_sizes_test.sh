#!/usr/bin/env bash
# scripts/check_sizes.sh on a generated tree: a function of 61 lines and a class of 251 are each
# named with file and line and fail the check; braces inside comments, strings, raw strings and
# control blocks do not fool the count; functions and classes at the limits (60, 250) pass.
# Usage: check_sizes_test.sh PATH/TO/check_sizes.sh
set -euo pipefail
check="$1"
t="$(mktemp -d /tmp/aepipe-sizes.XXXXXX)"
trap 'rm -rf "${t}"' EXIT
mkdir -p "${t}"/{pipeline,nodes/nn,formats,bench}

body() {  # N: N lines of statements
  for ((i = 0; i < $1; i++)); do printf '    x += %d;\n' "${i}"; done
}
members() {  # N: N lines of members
  for ((i = 0; i < $1; i++)); do printf '    int m%d = 0;\n' "${i}"; done
}
{ printf '// a } and a { in a comment\n#include <string>\n'
  printf 'int long_fn(int x) {\n'; body 58; printf '    return x;\n}\n'          # 61 lines
  printf 'int ok_fn(int x) {\n'; body 57; printf '    return x;\n}\n'            # 60 lines
} > "${t}/nodes/nn/a.cpp"
{ printf '#pragma once\nstruct Big {\n'; members 249; printf '};\n'               # 251 lines
  printf 'class Fine {\n'; members 248; printf '};\n'                             # 250 lines
  printf 'enum class E {\n'; for ((i = 0; i < 300; i++)); do printf '    e%d,\n' "${i}"; done; printf '};\n'
} > "${t}/pipeline/b.hpp"
# Braces in literals and comments, and control blocks inside a function of 40 lines: no error.
{ printf 'const char *s = "{{{{";\nconst char *r = R"x({ " })x";\nchar c = '"'"'{'"'"';\n'
  printf 'void g(int x) {\n    /* { { */\n    if (x) {\n'; body 30; printf '    }\n    for (;;) { break; }\n}\n'
} > "${t}/formats/c.cpp"
printf 'int main() { return 0; }\n' > "${t}/bench/d.cpp"

fail() { echo "FAIL: $*" >&2; echo "--- output:" >&2; cat "${t}/out" >&2; exit 1; }
rc=0
bash "${check}" "${t}" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 1 ]] || fail "over-long function and class: exit ${rc}, expected 1"
for want in "nodes/nn/a.cpp:3: error: function 'long_fn' is 61 lines (at most 60)" \
            "pipeline/b.hpp:2: error: class 'Big' is 251 lines (at most 250)"; do
  grep -qxF "${want}" "${t}/out" || fail "not named: ${want}"
done
[[ $(grep -c ': error: ' "${t}/out") -eq 2 ]] || fail "expected exactly 2 errors"

# Without them: clean.
sed -i '3,63d' "${t}/nodes/nn/a.cpp"
sed -i '2,252d' "${t}/pipeline/b.hpp"
rc=0
bash "${check}" "${t}" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 0 ]] || fail "clean tree: exit ${rc}, expected 0"
echo "check_sizes_test: the check names every over-long function and class"
