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
inputs=(main.go go.mod go.sum build.sh ../support/cached-build.sh)
label="FerretDB test server"

build_to() {
  export CGO_ENABLED=0          # FerretDB's SQLite backend is pure Go (modernc.org/sqlite)
  export GOFLAGS="-mod=readonly -buildvcs=false"
  go mod download
  go build -trimpath -o "$1" .
}

source ../support/cached-build.sh
