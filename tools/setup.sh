#!/usr/bin/env bash
# wspulse_client — install what building and testing need (Debian/Ubuntu, apt).
#
# Idempotent: checks every requirement (commands, headers, Python modules, sanitizer runtimes)
# and installs only the packages whose check fails, with --no-install-recommends (libasio-dev
# recommends Boost, which would hide a missing ASIO_STANDALONE). Prints nothing when everything
# is there. Runs `apt-get update` once, and only when something is missing. Uses sudo when not
# root. Go is not needed by the build and is not installed here (tools/json_vs_go.py, part of
# `make bench`, uses it when it is on PATH).
#
#   tools/setup.sh           what building and testing need
#   tools/setup.sh --cross   also the arm64/armhf cross compilers and qemu-user (make check-cross)
#   tools/setup.sh --bench   also Google Benchmark, for bench/micro/ (make bench, make check)
#   tools/setup.sh --cross-tls  also OpenSSL for arm64/armhf (Debian multiarch: adds the two
#                               foreign architectures to dpkg; make footprint's TLS cells)
# SPDX-License-Identifier: MIT
set -euo pipefail

# Debian's own python3 (a pyenv/conda python3 on PATH has no python3-websockets).
PY=/usr/bin/python3

have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_header() { [ -f "/usr/include/$1" ] || [ -f "/usr/local/include/$1" ]; }
have_glob() { compgen -G "$1" >/dev/null; }
have_py_module() { [ -x "$PY" ] && "$PY" -c "import $1" >/dev/null 2>&1; }

need() {  # need <package> <check...>: queue the package when the check fails
  local pkg=$1
  shift
  "$@" || missing+=("$pkg")
}

cross=0
cross_tls=0
bench=0
for arg in "$@"; do
  case $arg in
    --cross) cross=1 ;;
    --bench) bench=1 ;;
    --cross-tls) cross_tls=1 ;;
    *)
      echo "setup: unknown option $arg (--cross, --cross-tls, --bench)" >&2
      exit 2
      ;;
  esac
done

check_all() {
  missing=()
  if [ $cross -eq 1 ]; then
    need g++-aarch64-linux-gnu have_cmd aarch64-linux-gnu-g++
    need g++-arm-linux-gnueabihf have_cmd arm-linux-gnueabihf-g++
    need qemu-user have_cmd qemu-aarch64
  fi
  if [ $cross_tls -eq 1 ]; then
    need libssl-dev:arm64 test -f /usr/lib/aarch64-linux-gnu/libssl.so
    need libssl-dev:armhf test -f /usr/lib/arm-linux-gnueabihf/libssl.so
  fi
  if [ $bench -eq 1 ]; then
    need libbenchmark-dev have_header benchmark/benchmark.h
  fi
  need g++ have_cmd g++
  need cmake have_cmd cmake
  need ninja-build have_cmd ninja
  need meson have_cmd meson
  need clang have_cmd clang++
  need clang-format have_cmd clang-format
  need python3 test -x "$PY"
  need python3-websockets have_py_module websockets
  need libwebsocketpp-dev have_header websocketpp/client.hpp
  need libasio-dev have_header asio.hpp
  need rapidjson-dev have_header rapidjson/document.h
  need doctest-dev have_header doctest/doctest.h
  need libssl-dev have_header openssl/ssl.h
  need openssl have_cmd openssl  # the TLS tests make their certificates with it
  need libspdlog-dev have_header spdlog/spdlog.h  # examples/spdlog_logger.cpp (optional elsewhere)
  # clang's sanitizer runtimes (ASan/UBSan/TSan); g++ brings its own with libgcc. The same
  # package ships libFuzzer as clang -fsanitize=fuzzer links it (libclang_rt.fuzzer); Debian's
  # libfuzzer-14-dev is only the stand-alone libFuzzer.a, which the fuzz build does not use.
  need libclang-rt-14-dev have_glob '/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.tsan-x86_64.a'
  need libclang-rt-14-dev have_glob '/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'
}

check_all
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: missing: ${missing[*]}"
if ! have_cmd apt-get; then
  echo "setup: no apt-get on this system; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! have_cmd sudo; then
    echo "setup: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if [ $cross_tls -eq 1 ]; then  # multiarch: the foreign packages need their architecture known
  for arch in arm64 armhf; do
    dpkg --print-foreign-architectures | grep -qx "$arch" || "${SUDO[@]}" dpkg --add-architecture "$arch"
  done
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
installed=("${missing[@]}")
check_all
if [ ${#missing[@]} -ne 0 ]; then
  echo "setup: still missing after apt-get install: ${missing[*]}" >&2
  exit 1
fi
echo "setup: installed: ${installed[*]}"
