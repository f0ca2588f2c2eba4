#!/usr/bin/env bash
# `make check-cross`: cross-build for arm64 and armhf the minimal client
# (tests/consumers/consumer.cpp, taken in with add_subdirectory and cmake/toolchains/), the
# device example (meson with meson/cross/) and the contract scenarios (tests/contract/, doctest),
# run each under qemu-user against the host's test server, print the stripped sizes and the
# contract's pass counts.
#
#   tools/check_cross.sh <wspulse-testserver> <work-dir> [CMAKE_BUILD_TYPE (MinSizeRel)]
#
# Needs `tools/setup.sh --cross`. The header-only dependencies reach the cross compiler through
# a folder holding only them (symlinks), never through the host's /usr/include.
# SPDX-License-Identifier: MIT
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server_bin=$1
work=$(realpath -m "$2")
build_type=${3:-MinSizeRel}
[ -n "${WSPULSE_URL:-}" ] || exec "$repo/tools/with_testserver.sh" "$server_bin" "$0" "$@"

deps="$work/deps-include"
mkdir -p "$deps"
for d in asio.hpp asio websocketpp rapidjson doctest; do ln -sfn "/usr/include/$d" "$deps/$d"; done

# run_guest <log> <qemu> <triple> <program> [args]: the program under qemu-user, bounded by
# QEMU_TIMEOUT (s, default 120; a run takes ~3 s). A run that overstays is killed, its output
# kept in <log>.stalled, and run once more: CI lost a whole run (90 min) to one unbounded stall
# here. The retry is printed, so a stall never passes unseen.
run_guest() {
  local log=$1 qemu=$2 triple=$3 rc=0
  shift 3
  timeout -k 10 "${QEMU_TIMEOUT:-120}" "$qemu" -L "/usr/$triple" "$@" 2>>"$log" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    cp "$log" "$log.stalled"
    echo "check_cross: $(basename "$1") stalled under $qemu (${QEMU_TIMEOUT:-120} s): killed," \
      "output in $log.stalled; running it once more" >&2
    rc=0
    timeout -k 10 "${QEMU_TIMEOUT:-120}" "$qemu" -L "/usr/$triple" "$@" 2>>"$log" || rc=$?
  fi
  return "$rc"
}

cross_target() {  # <arch>:<triple>:<qemu>: its three builds in turn (the two targets run side by side)
  IFS=: read -r arch triple qemu <<<"$1"
  dir="$work/$arch-$build_type"
  mkdir -p "$dir/src"
  cp "$repo/tests/consumers/cmake-add-subdirectory/CMakeLists.txt" \
    "$repo/tests/consumers/consumer.cpp" "$dir/src/"
  t0=$(date +%s)
  cmake -S "$dir/src" -B "$dir/build" -G Ninja --log-level=WARNING \
    -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/toolchains/$arch-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE="$build_type" "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wpedantic -Werror" \
    -DWSPULSE_CLIENT_DIR="$repo" -DWSPULSE_CLIENT_DEPS_INCLUDE_DIR="$deps" >"$dir/log.txt"
  cmake --build "$dir/build" >>"$dir/log.txt" || { cat "$dir/log.txt" >&2; exit 1; }
  "$triple-strip" -o "$dir/consumer.stripped" "$dir/build/consumer"
  out=$(run_guest "$dir/log.txt" "$qemu" "$triple" "$dir/build/consumer" \
    "$WSPULSE_URL/ws?room=cross&id=$arch")
  printf '%-8s cmake %-10s %4ss  stripped %4s KB  %s\n' "$arch" "$build_type" \
    "$(($(date +%s) - t0))" "$(($(stat -c %s "$dir/consumer.stripped") / 1024))" "$out"

  # meson with meson/cross/: the device example (null_logger, small-device policies).
  t0=$(date +%s)
  mdir="$work/meson-$arch"
  [ -f "$mdir/build.ninja" ] || meson setup "$mdir" "$repo" --cross-file "$repo/meson/cross/$arch-linux-gnu.ini" \
    -Ddeps_include_dir="$deps" -Dtests=false -Dbuildtype=minsize -Dwerror=true >"$mdir.log"
  meson compile -C "$mdir" wspulse-example-device >>"$mdir.log" || { cat "$mdir.log" >&2; exit 1; }
  "$triple-strip" -o "$mdir/device.stripped" "$mdir/wspulse-example-device"
  out=$(run_guest "$mdir.log" "$qemu" "$triple" "$mdir/wspulse-example-device" \
    "$WSPULSE_URL/ws?room=cross-device&id=$arch")
  out=${out%%$'\n'*}  # the echo line
  printf '%-8s meson example-device -Os %4ss  stripped %4s KB  %s\n' "$arch" \
    "$(($(date +%s) - t0))" "$(($(stat -c %s "$mdir/device.stripped") / 1024))" "$out"

  # The contract scenarios (tests/contract/), driving the host's server through its control API.
  # Built as $build_type like the consumer: -Os builds faster than -O1 (62 s vs 66 s per arch,
  # both arches side by side) and runs as fast under qemu (~3 s).
  t0=$(date +%s)
  cdir="$work/contract-$arch-$build_type"
  cmake -S "$repo/tests/contract" -B "$cdir" -G Ninja --log-level=WARNING \
    -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/toolchains/$arch-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE="$build_type" "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wpedantic -Werror" \
    -DWSPULSE_CLIENT_DIR="$repo" -DWSPULSE_CLIENT_DEPS_INCLUDE_DIR="$deps" >"$cdir.log"
  cmake --build "$cdir" >>"$cdir.log" || { cat "$cdir.log" >&2; exit 1; }
  : >"$cdir.txt"
  run_guest "$cdir.txt" "$qemu" "$triple" "$cdir/contract_remote" >>"$cdir.txt" ||
    { cat "$cdir.txt" >&2; exit 1; }
  printf '%-8s contract %-10s %4ss  %s\n' "$arch" "$build_type" "$(($(date +%s) - t0))" \
    "$(grep -m1 'test cases:' "$cdir.txt" | sed 's/^\[doctest\] //')"
}

targets=(aarch64:aarch64-linux-gnu:qemu-aarch64 armhf:arm-linux-gnueabihf:qemu-arm)
pids=()
for target in "${targets[@]}"; do
  cross_target "$target" >"$work/${target%%:*}.out" 2>&1 &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
for target in "${targets[@]}"; do cat "$work/${target%%:*}.out"; done
exit "$rc"
