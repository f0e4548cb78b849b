# Sourced by the build scripts of the test servers (tests/ferretdb/build.sh,
# tests/otelcol/build.sh): the caching, locking and atomic install they share.
# The sourcing script sets `here` (its folder), `bin` (the binary to make),
# `inputs` (files the binary is rebuilt after), `label` (what is built), and
# defines `build_to TMPFILE`, which writes the binary to TMPFILE. Arguments:
# --force rebuilds even when the binary is fresh.
# shellcheck shell=bash

force=0
if [[ "${1:-}" == "--force" ]]; then force=1; fi

is_fresh() {
  [[ -x "$bin" ]] || return 1
  local f
  for f in "${inputs[@]}"; do
    [[ "$bin" -nt "$f" ]] || return 1
  done
  return 0
}

if [[ $force == 0 ]] && is_fresh; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: go is not installed (need Go and the Go module proxy)" >&2
  exit 1
fi

mkdir -p "$here/bin"

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
echo "build.sh: building $label (first build downloads modules and takes a few minutes)..." >&2
tmp="$(mktemp "$here/bin/.build.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
build_to "$tmp"
chmod +x "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "build.sh: built $bin in $(( $(date +%s) - start ))s" >&2
