#!/usr/bin/env bash
# wspulse_client: build every consumer project in tests/consumers/ the way an outside project
# would take the library in, and run each against the bundled test server.
#
#   tests/consumers/run.sh <wspulse-testserver> <work-dir> [consumer...]
#
# Consumers: cmake-find-package (from a `cmake --install` prefix), cmake-add-subdirectory,
# cmake-fetchcontent (from a git repository tagged v<version>), meson-subproject (the shipped
# packaging/wspulse_client.wrap; `meson install` of the parent must not install our headers),
# pkgconfig-cmake / pkgconfig-meson (the installed wspulse-client.pc), single-header (a plain
# compiler command line), single-header-no-rtti (the same with -fno-rtti), vendored-makefile
# (the README's vendoring guide: one copied file, a plain Makefile, TLS). Default: all of them.
# They build $JOBS (2) at a time, each consumer.cpp (one TU) with
# -Wall -Wextra -Wpedantic -Werror and must get its frame echoed by the server.
# The git repository is made in <work-dir> from the working tree's files (tracked and
# untracked, not ignored), so what is tested is what is checked out, committed or not.
# SPDX-License-Identifier: MIT
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
server_bin=$(realpath "$1")
work=$(realpath -m "$2")
shift 2
# The bundled server on an ephemeral port, for the whole run (tools/with_testserver.sh).
[ -n "${WSPULSE_URL:-}" ] ||
  exec "$repo/tools/with_testserver.sh" "$server_bin" "$0" "$server_bin" "$work" "$@"
url="$WSPULSE_URL/ws?room=consumers"
consumers=("$@")
[ ${#consumers[@]} -gt 0 ] || consumers=(cmake-find-package cmake-add-subdirectory
  cmake-fetchcontent meson-subproject pkgconfig-cmake pkgconfig-meson single-header
  single-header-no-rtti vendored-makefile)

version=$(/usr/bin/python3 "$repo/tools/version.py")
tag="v$version"
cxx=${CXX:-g++}
warn=(-Wall -Wextra -Wpedantic -Werror)
cmake_gen=(-G Ninja --log-level=WARNING -DCMAKE_CXX_COMPILER="$cxx"
  "-DCMAKE_CXX_FLAGS=${warn[*]}")

rm -rf "$work"
mkdir -p "$work"
log="$work/log.txt"

# ---- what the consumers take the library from -------------------------------------------------
snapshot() {  # a git repository of the working tree, tagged $tag
  local src="$work/wspulse_client.git"
  mkdir -p "$src"
  (cd "$repo" && git ls-files -co --exclude-standard | while read -r f; do
    [ -e "$f" ] && printf '%s\n' "$f"
  done | tar -T - -cf -) | tar -C "$src" -xf -
  git -C "$src" init -q -b main
  git -C "$src" add -A
  git -C "$src" -c user.name=consumers -c user.email=consumers@localhost \
    commit -q -m "snapshot of the working tree"
  git -C "$src" tag "$tag"
}
cmake_prefix() {  # `cmake --install` of the library into $work/prefix-cmake
  cmake -S "$repo" -B "$work/lib-cmake" "${cmake_gen[@]}" -DWSPULSE_CLIENT_BUILD_TESTS=OFF \
    -DWSPULSE_CLIENT_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix-cmake" >>"$log"
  cmake --install "$work/lib-cmake" >>"$log"
}
meson_prefix() {  # `meson install` of the library into $work/prefix-meson
  meson setup "$work/lib-meson" "$repo" -Dtests=false -Dexamples=false \
    --prefix "$work/prefix-meson" >>"$log"
  meson install -C "$work/lib-meson" >>"$log"
}
layout_check() {  # <prefix>: the installed files every integration path relies on
  local inc="$1/include" f
  for f in wspulse_client.hpp wspulse/client.hpp wspulse_client/single_include/wspulse_client.hpp \
    wspulse_client/websocketpp-patched/websocketpp/endpoint.hpp; do
    [ -f "$inc/$f" ] || { echo "consumers: $1: $f not installed" >&2; return 1; }
  done
  [ -f "$1/share/pkgconfig/wspulse-client.pc" ] || { echo "consumers: $1: no .pc" >&2; return 1; }
}

# ---- one consumer: build in $work/<name>, then run against the server -----------------------
build_consumer() {
  local name=$1 dir="$work/$1"
  mkdir -p "$dir"
  [ -d "$here/$name" ] && cp -r "$here/$name/." "$dir/"
  cp "$here/consumer.cpp" "$dir/"
  case "$name" in
    cmake-find-package)
      [ -d "$work/prefix-cmake" ] || cmake_prefix
      layout_check "$work/prefix-cmake"
      cmake -S "$dir" -B "$dir/build" "${cmake_gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix-cmake" \
        -DWSPULSE_CLIENT_VERSION="$version"
      cmake --build "$dir/build" ;;
    cmake-add-subdirectory)
      cmake -S "$dir" -B "$dir/build" "${cmake_gen[@]}" -DWSPULSE_CLIENT_DIR="$repo"
      cmake --build "$dir/build" ;;
    cmake-fetchcontent)
      [ -d "$work/wspulse_client.git" ] || snapshot
      cmake -S "$dir" -B "$dir/build" "${cmake_gen[@]}" \
        -DWSPULSE_CLIENT_GIT="file://$work/wspulse_client.git" -DWSPULSE_CLIENT_TAG="$tag"
      cmake --build "$dir/build" ;;
    meson-subproject)
      [ -d "$work/wspulse_client.git" ] || snapshot
      mkdir -p "$dir/subprojects"
      sed -e "s|^url = .*|url = file://$work/wspulse_client.git|" \
        -e "s|^revision = .*|revision = $tag|" \
        "$repo/packaging/wspulse_client.wrap" >"$dir/subprojects/wspulse_client.wrap"
      CXX="$cxx" meson setup "$dir/build" "$dir" -Dwerror=true --prefix /usr
      meson compile -C "$dir/build"
      # The parent's install must hold the parent's program and nothing of ours.
      meson install -C "$dir/build" --destdir "$dir/destdir" >/dev/null
      [ -x "$dir/destdir/usr/bin/consumer" ] || { echo "consumers: parent install is empty" >&2; return 1; }
      if (cd "$dir/destdir" && find . -path '*wspulse*' -o -path '*websocketpp*' | grep .); then
        echo "consumers: meson install of the parent installed the files above" >&2
        return 1
      fi
      ;;
    pkgconfig-cmake | pkgconfig-meson)
      local prefix="$work/prefix-${name#pkgconfig-}"
      [ -d "$prefix" ] || "${name#pkgconfig-}_prefix"
      layout_check "$prefix"
      # shellcheck disable=SC2046  # pkg-config's output is meant to be word-split
      "$cxx" -std=c++17 "${warn[@]}" -o "$dir/consumer" "$dir/consumer.cpp" \
        $(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags --libs wspulse-client) ;;
    single-header)
      # What a drop-in user types: the header's folder, ASIO_STANDALONE, threads. (C++17: g++
      # C++20 also needs the patched websocketpp folder, see the README.)
      "$cxx" -std=c++17 "${warn[@]}" -DASIO_STANDALONE -I"$repo/single_include" \
        -o "$dir/consumer" "$dir/consumer.cpp" -pthread ;;
    single-header-no-rtti)
      # -fno-rtti works without extra macros (the library defines ASIO_NO_TYPEID for Asio).
      "$cxx" -std=c++17 "${warn[@]}" -fno-rtti -DASIO_STANDALONE -I"$repo/single_include" \
        -o "$dir/consumer" "$dir/consumer.cpp" -pthread ;;
    vendored-makefile)
      # The vendoring guide (README), exactly: one file copied, a plain Makefile, with TLS.
      mkdir -p "$dir/third_party"
      cp "$repo/single_include/wspulse_client.hpp" "$dir/third_party/"
      make -C "$dir" CXX="$cxx" CXXFLAGS="${warn[*]}" TLS=1 ;;
    *) echo "consumers: unknown consumer '$name'" >&2; return 2 ;;
  esac
}

# ---- build (JOBS at a time: each is one TU on one core), then run, in the listed order -------
prepare() {  # what several consumers share, made once before the parallel builds
  local need=" ${consumers[*]} "
  if [[ $need == *" cmake-fetchcontent "* || $need == *" meson-subproject "* ]]; then snapshot; fi
  if [[ $need == *" cmake-find-package "* || $need == *" pkgconfig-cmake "* ]]; then cmake_prefix; fi
  if [[ $need == *" pkgconfig-meson "* ]]; then meson_prefix; fi
}
prepare >>"$log" 2>&1 || { echo "consumers: preparing the prefixes failed:" >&2; tail -n 40 "$log" >&2; exit 1; }

jobs_max=${JOBS:-2}
for name in "${consumers[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  (
    t0=$(date +%s)
    if build_consumer "$name" >"$work/$name.log" 2>&1; then rc=0; else rc=$?; fi
    echo "$rc $(($(date +%s) - t0))" >"$work/$name.status"
  ) &
done
wait

failed=()
for name in "${consumers[@]}"; do
  read -r rc secs <"$work/$name.status"
  cat "$work/$name.log" >>"$log"
  if [ "$rc" -eq 0 ]; then
    bin="$work/$name/consumer"
    [ -x "$bin" ] || bin="$work/$name/build/consumer"
    if out=$("$bin" "$url&id=$name" 2>>"$log"); then
      printf '%-24s ok   build %3ss  %s\n' "$name" "$secs" "$out"
      continue
    fi
    printf '%-24s FAIL (run) %s\n' "$name" "$out"
  else
    printf '%-24s FAIL (build): see %s\n' "$name" "$work/$name.log"
    tail -n 40 "$work/$name.log" >&2
  fi
  failed+=("$name")
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "consumers: failed: ${failed[*]}; the whole log: $log" >&2
  exit 1
fi
echo "consumers: all ${#consumers[@]} built and talked to the server"
