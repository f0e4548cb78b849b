#!/usr/bin/env bash
# Builds the embedded FerretDB test server to tests/ferretdb/bin/ferretdb.
#
# Cached: does nothing when the binary is newer than main.go, go.mod, go.sum and
# this script. Needs only Go (>= 1.24) and the Go module proxy; modules are
# downloaded here (verified against the committed go.sum). Safe to run from
# several processes at once (serialised with flock when available).
#
#   bash tests/ferretdb/build.sh          # build if stale
#   bash tests/ferretdb/build.sh --force  # always rebuild
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

bin="$here/bin/ferretdb"
force=0
if [[ "${1:-}" == "--force" ]]; then force=1; fi

is_fresh() {
  [[ -x "$bin" ]] || return 1
  local f
  for f in main.go go.mod go.sum build.sh; do
    [[ "$bin" -nt "$f" ]] || return 1
  done
  return 0
}

if [[ $force == 0 ]] && is_fresh; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: go is not installed (need Go >= 1.24 and the module proxy)" >&2
  exit 1
fi

mkdir -p bin

# Serialise concurrent builds (several test workers may call this at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$here/bin/.build.lock"
  flock 9
  # Someone else may have finished the build while we waited.
  if [[ $force == 0 ]] && is_fresh; then
    exit 0
  fi
fi

start=$(date +%s)
echo "build.sh: building FerretDB test server (first build downloads modules and takes a few minutes)..." >&2

export CGO_ENABLED=0          # FerretDB's SQLite backend is pure Go (modernc.org/sqlite)
export GOFLAGS="-mod=readonly -buildvcs=false"

go mod download
tmp="$(mktemp "$here/bin/.ferretdb.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
go build -trimpath -o "$tmp" .
chmod +x "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT

echo "build.sh: built $bin in $(( $(date +%s) - start ))s" >&2
