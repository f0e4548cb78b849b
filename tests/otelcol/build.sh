#!/usr/bin/env bash
# Builds the OpenTelemetry Collector the tests use to tests/otelcol/bin/otelcol-kepler,
# with the collector builder (go.opentelemetry.io/collector/cmd/builder) and the
# components named in builder.yaml, all from the Go module proxy.
#
# Cached: does nothing when the binary is newer than builder.yaml and this
# script. Needs only Go and the module proxy (module checksums are verified
# against the checksum database, as for any go build). Safe to run from several
# processes at once (serialised with flock when available).
#
#   bash tests/otelcol/build.sh          # build if stale
#   bash tests/otelcol/build.sh --force  # always rebuild
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

BUILDER_VERSION=v0.158.0
bin="$here/bin/otelcol-kepler"
inputs=(builder.yaml build.sh ../support/cached-build.sh)
label="the OpenTelemetry Collector"

build_to() {
  export CGO_ENABLED=0
  export GOFLAGS="-buildvcs=false"
  mkdir -p bin/build
  go run "go.opentelemetry.io/collector/cmd/builder@${BUILDER_VERSION}" --config builder.yaml >&2
  cp bin/build/otelcol-kepler "$1"
}

source ../support/cached-build.sh
