#!/usr/bin/env bash
# The include direction of the layers (ARCHITECTURE.md), read from the compiler's dependency
# files: the *.o.d that GCC and clang write beside each object with -MD, for the objects that
# compile_commands.json lists (objects of files since moved or removed are left out):
#   core     pipeline/*.{hpp,cpp}   may include  core
#   formats  formats/               may include  core, formats
#   report   pipeline/report/       may include  core, report
#   nodes    nodes/                 may include  core, formats, report, nodes
#   cli      pipeline/cli/          may include  anything
# Every project file that some object of the build includes is checked; each wrong-way include
# is named with its file and line. Tests, benchmarks and examples may include anything.
# Usage: check_layers.sh [ROOT [BUILD_DIR]]   (default: the repository and ROOT/build)
# Exit: 0 clean, 1 a wrong-way include, 2 no compile_commands.json or dependency files (build first).
set -euo pipefail
root="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
build="$(cd "${2:-${root}/build}" && pwd)"

layer() {  # PATH -> REPLY (no subshell: it runs for every dependency of every object)
  case "$1" in
    pipeline/cli/*) REPLY=cli ;;
    pipeline/report/*) REPLY=report ;;
    pipeline/*/*) REPLY=other ;;
    pipeline/*) REPLY=core ;;
    formats/*) REPLY=formats ;;
    nodes/*) REPLY=nodes ;;
    *) REPLY=other ;;
  esac
}
may_include() {  # FROM TO
  case "$1:$2" in
    *:other | core:core | formats:core | formats:formats | report:core | report:report) return 0 ;;
    nodes:core | nodes:formats | nodes:report | nodes:nodes | cli:* | other:*) return 0 ;;
    *) return 1 ;;
  esac
}

# compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS): each entry's "directory" comes before
# its "command", whose "-o OBJECT" names the object; OBJECT.d is its dependency file, with paths
# relative to that directory.
db="${build}/compile_commands.json"
if [[ ! -f "${db}" ]]; then
  echo "check_layers: no ${db}: configure the build first" >&2
  exit 2
fi
mapfile -t deps < <(awk '/"directory":/ { sub(/.*"directory": *"/, ""); sub(/".*/, ""); dir = $0 }
  /"command":/ && match($0, / -o [^ ]+ /) { print dir "\t" substr($0, RSTART + 4, RLENGTH - 5) ".d" }' "${db}")
dirs=() dfiles=()
for e in "${deps[@]}"; do
  dir="${e%%$'\t'*}" obj="${e#*$'\t'}"
  [[ "${obj}" == /* ]] || obj="${dir}/${obj}"
  if [[ -f "${obj}" ]]; then dirs+=("${dir}") dfiles+=("${obj}"); fi
done
if [[ ${#dfiles[@]} -eq 0 ]]; then
  echo "check_layers: no dependency files (*.o.d) for the objects of ${db}: build the project first" >&2
  exit 2
fi

declare -A seen=()     # project files some object includes, relative to root
declare -A reached=()  # "SRC -> DEP" pairs that break the direction (transitively)
for i in "${!dfiles[@]}"; do
  d="${dfiles[${i}]}" cwd="${dirs[${i}]}"
  mapfile -t files < <(sed -e 's/\\$//' "${d}" | tr -s ' \t' '\n' | grep -v -e ':$' -e '^$' || true)
  [[ ${#files[@]} -gt 0 ]] || continue
  mapfile -t rel < <(cd "${cwd}" && realpath -m --relative-to="${root}" -- "${files[@]}" | grep -v '^\.\./')
  [[ ${#rel[@]} -gt 0 ]] || continue
  src="${rel[0]}"
  layer "${src}" && from="${REPLY}"
  for f in "${rel[@]}"; do
    seen["${f}"]=1
    layer "${f}"
    may_include "${from}" "${REPLY}" || reached["${src} -> ${f}"]=1
  done
done

bad=0
for f in $(printf '%s\n' "${!seen[@]}" | sort); do
  layer "${f}" && from="${REPLY}"
  [[ "${from}" == other || ! -f "${root}/${f}" ]] && continue
  while IFS=: read -r line inc; do
    inc="${inc#*\"}" inc="${inc%%\"*}"
    if [[ -f "${root}/${inc}" ]]; then target="${inc}"
    else target="$(realpath -m --relative-to="${root}" -- "${root}/$(dirname "${f}")/${inc}")"; fi
    layer "${target}"
    if ! may_include "${from}" "${REPLY}"; then
      echo "${f}:${line}: error: ${from} may not include ${REPLY}: #include \"${inc}\"" >&2
      bad=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "${root}/${f}" || true)
done
# A wrong-way dependency comes through a wrong-way include named above, unless the include
# was written in a way not resolved here (a path relative to another -I folder): then name
# the object's source and what it reached.
if [[ ${bad} -eq 0 ]]; then
  for pair in $(printf '%s\n' "${!reached[@]}" | tr ' ' '|' | sort); do
    echo "${pair%%|*}: error: reaches ${pair##*|} against the layer direction" >&2
    bad=1
  done
fi
if [[ ${bad} -ne 0 ]]; then
  echo "check_layers: includes against the layer direction (see ARCHITECTURE.md)" >&2
  exit 1
fi
echo "check_layers: ${#seen[@]} project files in ${#dfiles[@]} objects follow the layer direction"
