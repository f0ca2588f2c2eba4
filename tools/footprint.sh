#!/usr/bin/env bash
# `make footprint`: the README's footprint tables. Builds bench/footprint_client.cpp (a minimal
# client: dial, one echoed frame, close) from the single header with a plain compiler command
# line for the host, arm64 and armhf (the cross compilers of `tools/setup.sh --cross`), plain and
# TLS, -O2 and -Os, and prints the stripped sizes (dynamic libstdc++), what null_logger,
# no_reconnect and no_heartbeat save (-Os, plain), and on the host the RSS and the threads of
# one connected client and of each extra one (against the bundled test server).
#
#   tools/footprint.sh <wspulse-testserver> <work-dir> [extra clients (10)]
#
# FOOTPRINT_REUSE=1 keeps the programs a previous run left in <work-dir> (only the tables and
# the RSS runs are redone).
# Cross TLS builds need the target's OpenSSL (Debian multiarch libssl-dev:arm64 / :armhf, which
# `make footprint` installs with tools/setup.sh --cross-tls); without it those cells read "n/a".
# Builds run JOBS (2) at a time.
# SPDX-License-Identifier: MIT
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server_bin=$1
work=$(realpath -m "$2")
extra=${3:-10}
[ -n "${WSPULSE_URL:-}" ] || exec "$repo/tools/with_testserver.sh" "$server_bin" "$0" "$@"
src="$repo/bench/footprint_client.cpp"
jobs_max=${JOBS:-2}

[ "${FOOTPRINT_REUSE:-0}" = 1 ] || rm -rf "$work"
mkdir -p "$work/deps-include"
# Cross builds see the header-only dependencies through a folder holding only them.
for d in asio.hpp asio websocketpp rapidjson; do ln -sfn "/usr/include/$d" "$work/deps-include/$d"; done

# target:compiler:strip:extra flags
targets=("host:g++:strip:"
  "arm64:aarch64-linux-gnu-g++:aarch64-linux-gnu-strip:-isystem $work/deps-include"
  "armhf:arm-linux-gnueabihf-g++:arm-linux-gnueabihf-strip:-isystem $work/deps-include")
triple_of() { case $1 in arm64) echo aarch64-linux-gnu ;; armhf) echo arm-linux-gnueabihf ;; esac; }

tls_possible() {  # <target>: the target's OpenSSL is there to link against
  [ "$1" = host ] && return 0
  local t
  t=$(triple_of "$1")
  [ -f "/usr/lib/$t/libssl.so" ] && [ -f "/usr/include/$t/openssl/configuration.h" ]
}

# build <name> <target> <-O2|-Os> <plain|tls> [macros...]: writes $work/<name>.size (bytes)
build() {
  local name=$1 target=$2 opt=$3 tls=$4 spec cxx strip flags
  shift 4
  for spec in "${targets[@]}"; do [ "${spec%%:*}" = "$target" ] && break; done
  IFS=: read -r _ cxx strip flags <<<"$spec"
  local tls_flags=()
  if [ "$tls" = tls ]; then
    tls_possible "$target" || { echo n/a >"$work/$name.size"; return 0; }
    tls_flags=(-DWSPULSE_CLIENT_ENABLE_TLS -lssl -lcrypto)
    [ "$target" = host ] || tls_flags+=(-isystem "/usr/include/$(triple_of "$target")")
  fi
  # shellcheck disable=SC2086  # $flags is a word list
  "$cxx" -std=c++17 "$opt" -DNDEBUG -DASIO_STANDALONE -I"$repo/single_include" $flags \
    "${@/#/-D}" -o "$work/$name" "$src" -pthread "${tls_flags[@]}" 2>"$work/$name.log"
  "$strip" -o "$work/$name.stripped" "$work/$name"
  # code + data (binutils size): the policies' savings, which file sizes hide in page steps.
  "${strip%strip}size" "$work/$name" | awk 'NR == 2 { print $1 + $2 }' >"$work/$name.code"
  stat -c %s "$work/$name.stripped" >"$work/$name.size"
}

variants=("default:" "null_logger:FOOTPRINT_NULL_LOGGER" "no_reconnect:FOOTPRINT_NO_RECONNECT"
  "no_heartbeat:FOOTPRINT_NO_HEARTBEAT"
  "all_three:FOOTPRINT_NULL_LOGGER FOOTPRINT_NO_RECONNECT FOOTPRINT_NO_HEARTBEAT"
  "counting_metrics:FOOTPRINT_COUNTING_METRICS")
plan=()
for spec in "${targets[@]}"; do
  t=${spec%%:*}
  for opt in -O2 -Os; do for tls in plain tls; do plan+=("$t$opt-$tls $t $opt $tls"); done; done
  for v in "${variants[@]:1}"; do plan+=("$t-Os-plain-${v%%:*} $t -Os plain ${v#*:}"); done
done
for p in "${plan[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  [ "${FOOTPRINT_REUSE:-0}" = 1 ] && [ -f "$work/${p%% *}.size" ] && continue
  # shellcheck disable=SC2086  # the plan entry is a word list
  build $p &
done
wait
for p in "${plan[@]}"; do  # a build that failed left no .size
  name=${p%% *}
  [ -f "$work/$name.size" ] || { echo "footprint: $name failed:" >&2; tail -n 20 "$work/$name.log" >&2; exit 1; }
done

kb() { local s; s=$(cat "$work/$1.size"); [ "$s" = n/a ] && echo n/a || echo "$((s / 1024)) KB"; }
delta() {  # <name> <base>: code + data change, "-8.8 KB"
  awk -v a="$(cat "$work/$1.code")" -v b="$(cat "$work/$2.code")" \
    'BEGIN { printf "%+.1f KB\n", (a - b) / 1024 }'
}
out="$work/footprint.md"
{
  echo "Stripped size of the minimal client (g++ 12, dynamic libstdc++, single header):"
  echo
  echo "| target | plain -O2 | plain -Os | TLS -O2 | TLS -Os |"
  echo "|---|---|---|---|---|"
  for spec in "${targets[@]}"; do
    t=${spec%%:*}
    echo "| $t | $(kb "$t-O2-plain") | $(kb "$t-Os-plain") | $(kb "$t-O2-tls") | $(kb "$t-Os-tls") |"
  done
  echo
  echo "What the policies save (-Os, plain): change of code + data (binutils \`size\`) against the"
  echo "default policies; stripped files move in page steps (64 KB on arm64), so they hide it:"
  echo
  echo "| target | default (code + data) | null_logger | no_reconnect | no_heartbeat | all three | counting_metrics (a cost) |"
  echo "|---|---|---|---|---|---|---|"
  for spec in "${targets[@]}"; do
    t=${spec%%:*}
    row="| $t | $(($(cat "$work/$t-Os-plain.code") / 1024)) KB"
    for v in "${variants[@]:1}"; do row+=" | $(delta "$t-Os-plain-${v%%:*}" "$t-Os-plain")"; done
    echo "$row |"
  done
} >"$out"

# RSS and threads on the host: one connected client, then 1 + extra.
url="$WSPULSE_URL/ws?room=footprint"
{
  echo
  echo "Memory and threads on the host (x86-64, -O2, plain; VmRSS of the whole process while"
  echo "every client is connected and has had one frame echoed):"
  echo
  echo "| program | clients | RSS | threads |"
  echo "|---|---|---|---|"
  for name in host-O2-plain host-Os-plain-all_three; do
    read -r _ n1 _ rss1 _ thr1 < <("$work/$name" "$url" 1 2>>"$work/run.log")
    read -r _ n2 _ rss2 _ thr2 < <("$work/$name" "$url" $((1 + extra)) 2>>"$work/run.log")
    label=default
    [ "$name" = host-O2-plain ] || label="null_logger + no_reconnect + no_heartbeat (-Os)"
    echo "| $label | $n1 | $rss1 KB | $thr1 |"
    echo "| $label | $n2 | $rss2 KB (+$(((rss2 - rss1) / extra)) KB per extra client) | $thr2 |"
  done
} >>"$out"
cat "$out"
