#!/usr/bin/env bash
# scripts/check_layers.sh on a fake tree and fake dependency files (as GCC writes them, paths
# relative to the build folder, listed in a compile_commands.json as CMake writes it): a core file that includes a node header, a node that includes
# a command header through a header of its own, and a format that includes the report must
# each be named with file and line and fail the check; the same tree without them passes,
# whatever stale dependency files lie around; nothing built is a usage error.
# Usage: check_layers_test.sh PATH/TO/check_layers.sh
set -euo pipefail
check="$1"
t="$(mktemp -d /tmp/aepipe-layers.XXXXXX)"
trap 'rm -rf "${t}"' EXIT
mkdir -p "${t}"/{pipeline/cli,pipeline/report,nodes/nn,formats,build/CMakeFiles/x.dir}
printf '#include "pipeline/error.hpp"\n#include "nodes/nn/model.hpp"\n' > "${t}/pipeline/graph.cpp"
printf '#pragma once\n' > "${t}/pipeline/error.hpp"
printf '#pragma once\n#include "pipeline/cli/cli.hpp"\n' > "${t}/nodes/nn/model.hpp"
printf '#include "nodes/nn/model.hpp"\n' > "${t}/nodes/nn/train.cpp"
printf '#pragma once\n' > "${t}/pipeline/cli/cli.hpp"
printf '#include "pipeline/error.hpp"\n\n#include "pipeline/report/html.hpp"\n' > "${t}/formats/png.cpp"
printf '#pragma once\n' > "${t}/pipeline/report/html.hpp"
printf '#include "nodes/nn/model.hpp"\n#include "pipeline/report/html.hpp"\n' > "${t}/pipeline/cli/run.cpp"
dep() {  # SOURCE HEADERS...: a dependency file as GCC writes it, and its compile command
  local src="$1" obj="CMakeFiles/x.dir/$1.o"
  shift
  mkdir -p "$(dirname "${t}/build/${obj}")"
  { printf '%s: ../%s \\\n /usr/include/stdc-predef.h' "${obj}" "${src}"
    for h in "$@"; do printf ' \\\n ../%s' "${h}"; done
    printf '\n'; } > "${t}/build/${obj}.d"
  grep -qF " ${obj} " "${t}/build/commands" 2>/dev/null ||
    printf '{\n  "directory": "%s",\n  "command": "/usr/bin/c++ -DX=\\"a b\\" -I%s -o %s -c %s",\n  "file": "%s"\n},\n' \
      "${t}/build" "${t}" "${obj}" "${t}/${src}" "${t}/${src}" >> "${t}/build/commands"
  { printf '[\n'; sed '$ s/},$/}/' "${t}/build/commands"; printf ']\n'; } > "${t}/build/compile_commands.json"
}
dep pipeline/graph.cpp pipeline/error.hpp nodes/nn/model.hpp pipeline/cli/cli.hpp
dep nodes/nn/train.cpp nodes/nn/model.hpp pipeline/cli/cli.hpp
dep formats/png.cpp pipeline/error.hpp pipeline/report/html.hpp
dep pipeline/cli/run.cpp nodes/nn/model.hpp pipeline/cli/cli.hpp pipeline/report/html.hpp

fail() { echo "FAIL: $*" >&2; echo "--- output:" >&2; cat "${t}/out" >&2; exit 1; }
rc=0
bash "${check}" "${t}" "${t}/build" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 1 ]] || fail "wrong-way includes: exit ${rc}, expected 1"
for want in 'pipeline/graph.cpp:2: error: core may not include nodes: #include "nodes/nn/model.hpp"' \
            'nodes/nn/model.hpp:2: error: nodes may not include cli: #include "pipeline/cli/cli.hpp"' \
            'formats/png.cpp:3: error: formats may not include report: #include "pipeline/report/html.hpp"'; do
  grep -qxF "${want}" "${t}/out" || fail "not named: ${want}"
done
[[ $(grep -c ': error: ' "${t}/out") -eq 3 ]] || fail "expected exactly 3 errors (the commands may include anything)"

# Without the wrong-way includes: clean.
printf '#include "pipeline/error.hpp"\n' > "${t}/pipeline/graph.cpp"
printf '#pragma once\n' > "${t}/nodes/nn/model.hpp"
printf '#include "pipeline/error.hpp"\n' > "${t}/formats/png.cpp"
dep pipeline/graph.cpp pipeline/error.hpp
dep nodes/nn/train.cpp nodes/nn/model.hpp
dep formats/png.cpp pipeline/error.hpp
# The dependency file of an object the build no longer has (its source moved away) is stale:
# not read, though it names a wrong-way include.
mkdir -p "${t}/build/CMakeFiles/old.dir/pipeline"
printf 'CMakeFiles/old.dir/pipeline/data_cli.cpp.o: ../pipeline/data_cli.cpp ../nodes/nn/model.hpp\n' \
  > "${t}/build/CMakeFiles/old.dir/pipeline/data_cli.cpp.o.d"
rc=0
bash "${check}" "${t}" "${t}/build" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 0 ]] || fail "clean tree: exit ${rc}, expected 0"

# A wrong-way dependency whose include line is not resolvable from the root (written relative
# to another -I folder) is still caught from the dependency file, naming the source.
printf '#include "model.hpp"\n' > "${t}/pipeline/graph.cpp"
dep pipeline/graph.cpp nodes/nn/model.hpp
rc=0
bash "${check}" "${t}" "${t}/build" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 1 ]] || fail "indirect include: exit ${rc}, expected 1"
grep -qxF 'pipeline/graph.cpp: error: reaches nodes/nn/model.hpp against the layer direction' "${t}/out" ||
  fail "indirect include not named"

# Nothing built yet, or not even configured: a usage error, not a pass.
rm -rf "${t}/build/CMakeFiles"
rc=0
bash "${check}" "${t}" "${t}/build" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 2 ]] || fail "no dependency files: exit ${rc}, expected 2"
rm "${t}/build/compile_commands.json"
rc=0
bash "${check}" "${t}" "${t}/build" > "${t}/out" 2>&1 || rc=$?
[[ ${rc} -eq 2 ]] || fail "no compile_commands.json: exit ${rc}, expected 2"
echo "check_layers_test: the check names every wrong-way include"
