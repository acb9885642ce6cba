#!/usr/bin/env bash
# The shapes example end to end: draw a labelled set of coloured shapes, pack it into IDX
# with `aepipe data pack`, train shapes.yaml on it, and reconstruct two full-size pictures.
#   examples/shapes/run.sh [WORK_DIR] [aepipe run options: key=value, --threads N, ...]
# WORK_DIR (default: shapes-work) gets pics/, data/, shapes.yaml, runs/ and recon/.
# AEPIPE_BIN and MAKE_SHAPES name the binaries (default: build/aepipe, build/examples/make_shapes).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-shapes-work}"
[[ $# -gt 0 ]] && shift
aepipe="${AEPIPE_BIN:-$root/build/aepipe}"
make_shapes="${MAKE_SHAPES:-$root/build/examples/make_shapes}"

mkdir -p "$work"
rm -rf "$work/pics" "$work/recon"
"$make_shapes" "$work/pics" --per-class 150 --size 32 --seed 1
"$aepipe" data pack "$work/pics" --out "$work/data/shapes" --size 16x16 --test-split 0.2
cp "$here/shapes.yaml" "$work/shapes.yaml"
"$aepipe" run "$work/shapes.yaml" --out "$work/runs" "$@"
run="$(ls -d "$work"/runs/shapes-* | tail -n 1)"
"$aepipe" reconstruct --checkpoint "$run/model.safetensors" --out "$work/recon" \
  "$work/pics/circle/0000.png" "$work/pics/triangle/0000.png"
echo "shapes example: run folder $run, reconstructions in $work/recon"
