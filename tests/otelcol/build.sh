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
force=0
if [[ "${1:-}" == "--force" ]]; then force=1; fi

is_fresh() {
  [[ -x "$bin" ]] || return 1
  local f
  for f in builder.yaml build.sh; do
    [[ "$bin" -nt "$f" ]] || return 1
  done
  return 0
}

if [[ $force == 0 ]] && is_fresh; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: go is not installed (need Go and the module proxy)" >&2
  exit 1
fi

mkdir -p bin/build

if command -v flock >/dev/null 2>&1; then
  exec 9>"$here/bin/.build.lock"
  flock 9
  if [[ $force == 0 ]] && is_fresh; then
    exit 0
  fi
fi

start=$(date +%s)
echo "build.sh: building the OpenTelemetry Collector (first build downloads modules and takes a few minutes)..." >&2
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false"
go run "go.opentelemetry.io/collector/cmd/builder@${BUILDER_VERSION}" --config builder.yaml >&2
tmp="$(mktemp "$here/bin/.otelcol.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
cp bin/build/otelcol-kepler "$tmp"
chmod +x "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT

echo "build.sh: built $bin in $(( $(date +%s) - start ))s" >&2
