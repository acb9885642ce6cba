#!/usr/bin/env bash
# Packs what bench/device_sweep.sh needs on the 16-core device host (Ubuntu 24.04, x86-64, no
# package access) into device/ (git-ignored), for the device tool to carry (bench/README.md):
#   device/aepipe          the Release binary (build/aepipe)
#   device/lib.tar.gz      every library it links but glibc's (ldd), and the TBB libraries that
#                          TBB dlopens (libtbbmalloc, libtbbbind), gzip'd: libdnnl.so.2 alone is
#                          40 MB, the Fashion-MNIST files 30 MB, and a call carries 64 MiB in all
#   device/configs/        configs/fashion_mnist_ae.yaml
#   device/fashion-mnist/  the four Fashion-MNIST IDX files (.gz)
#   device/MANIFEST        the commit, the build, each library with the file it came from
# Then checks the bundle: the binary must resolve every library but glibc's inside it, and the
# bundle must stay under 56 MiB (the rest of the 64 MiB is the working tree). --hermetic also
# runs a 2-step `aepipe bench` from the bundle with only glibc's libraries visible (a private
# mount namespace over the system's library folder; needs root and unshare).
#
#   bench/make_device_bundle.sh [--build build] [--out device] [--hermetic]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

build=build out=device hermetic=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --hermetic) hermetic=1; shift ;;
    *) echo "usage: $0 [--build DIR] [--out DIR] [--hermetic]" >&2; exit 2 ;;
  esac
done
bin=$build/aepipe
[[ -x $bin ]] || { echo "missing $bin (cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build)" >&2; exit 1; }
grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" ||
  { echo "$build is not a Release build (CMAKE_BUILD_TYPE in $build/CMakeCache.txt): timings need Release" >&2; exit 1; }
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [[ -f $FASHION/$f ]] || { echo "missing $FASHION/$f (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
done

# glibc's own libraries: every host has them, and they must match its loader.
GLIBC='^(linux-vdso\.so|ld-linux-x86-64\.so|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libmvec\.so)'

# The libraries BIN needs, as "name path" lines; TBB's dlopened helpers beside libtbb.
linked_libs() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | grep -v -E "$GLIBC" || true
  local tbb
  tbb=$(ldd "$1" | awk '$1 ~ /^libtbb\.so/ {print $3}')
  [[ -n $tbb ]] && find "$(dirname "$tbb")" -maxdepth 1 -name 'libtbb*.so.[0-9]*' \( -name 'libtbbmalloc.so.*' -o -name 'libtbbbind*.so.*' \) \
    -printf '%f %p\n' | awk '$1 ~ /\.so\.[0-9]+$/'
}

rm -rf "$out"
mkdir -p "$out/configs" "$out/fashion-mnist"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/lib"
cp "$bin" "$out/aepipe"
cp configs/fashion_mnist_ae.yaml "$out/configs/"
cp "$FASHION"/*-ubyte.gz "$out/fashion-mnist/"
{
  echo "aepipe $(git rev-parse HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)'), $bin, Release"
  echo "made $(date -u +%Y-%m-%dT%H:%MZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(cpu_line)"
  echo "libraries (name, copied from):"
} >"$out/MANIFEST"
while read -r name path; do
  cp -L "$path" "$stage/lib/$name"
  echo "  $name $path" >>"$out/MANIFEST"
done < <(linked_libs "$bin" | sort -u)
tar -czf "$out/lib.tar.gz" -C "$stage/lib" .

# Every library but glibc's must resolve inside the unpacked bundle.
missing=$(LD_LIBRARY_PATH=$stage/lib ldd "$out/aepipe" | awk '$2 == "=>" {print $1, $3}' | grep -v -E "$GLIBC" |
          grep -v " $stage/lib/" || true)
[[ -z $missing ]] || { echo "libraries not in the bundle: $missing" >&2; exit 1; }
size=$(du -sb "$out" | cut -f1)
echo "$out: $((size / 1048576)) MiB ($(wc -l <"$out/MANIFEST") manifest lines); every library but glibc's resolves inside it"
((size < 56 * 1048576)) || { echo "$out is over 56 MiB: with the working tree it would not fit the device tool's 64 MiB" >&2; exit 1; }

if ((hermetic)); then
  # Only glibc's files stay visible in the system's library folder (private mount namespace:
  # the host's mounts are untouched); env and aepipe need nothing else.
  sys=$(dirname "$(readlink -f "$(ldd "$bin" | awk '$1 ~ /^libc\.so/ {print $3}')")")
  mkdir "$stage/glibc"
  find "$sys" -maxdepth 1 -regextype posix-extended -regex ".*/${GLIBC#^}.*" -exec cp -a {} "$stage/glibc/" \;
  data_overrides "$out/fashion-mnist"
  # shellcheck disable=SC2016 # $1, $2, $@ are the inner shell's
  unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec env -i "$@"' sh "$stage/glibc" "$sys" \
    "LD_LIBRARY_PATH=$stage/lib" "$out/aepipe" bench "$out/configs/fashion_mnist_ae.yaml" "${DATA_ARGS[@]}" \
    --threads 1 --steps 2 --warmup 1 --repeats 1 --out "$stage/bench" | tail -n 3
  echo "hermetic check passed: the bundle ran with only glibc's libraries in $sys"
fi
