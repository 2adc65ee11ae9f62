#!/usr/bin/env bash
# Cross-builds the static, stripped binary for every platform Rootline
# supports (CGO_ENABLED=0, as the README builds it) and prints a size
# table. Fails if one does not build or if linux/arm/v7 exceeds the size
# budget (#12: 12 MB with every role). JOBS builds run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
BUDGET=${BUDGET:-12000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# TARGETS narrows the list (each target compiles the standard library
# afresh: ~80 s of CPU apiece).
targets=${TARGETS:-"linux/amd64 linux/arm64 linux/arm/7 linux/arm/6 linux/386 linux/mips linux/mipsle linux/mips64
linux/riscv64 linux/ppc64le darwin/amd64 darwin/arm64 freebsd/amd64 windows/amd64"}
build() {
  local t=$1 os arch arm=""
  IFS=/ read -r os arch arm <<<"$t"
  local f="$out/rootline-${t//\//-}"
  if env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOARM="${arm:-}" GOMIPS=softfloat GOMIPS64=softfloat \
      go build -trimpath -ldflags='-s -w' -o "$f" ./cmd/rootline 2>"$f.err"; then
    echo "$t $(stat -c %s "$f")"
  else
    echo "$t FAILED: $(head -3 "$f.err" | tr '\n' ' ')"
  fi
}
export -f build; export out
results=$(printf '%s\n' $targets | xargs -P "$JOBS" -I{} bash -c 'build {}' | sort)
echo "platform size(bytes)"; echo "$results"
if grep -q FAILED <<<"$results"; then echo "build matrix: some platforms failed" >&2; exit 1; fi
armv7=$(awk '$1=="linux/arm/7"{print $2}' <<<"$results")
if [ "$armv7" -gt "$BUDGET" ]; then echo "build matrix: linux/arm/v7 is $armv7 bytes, over the $BUDGET budget" >&2; exit 1; fi
