# wspulse_client: cross toolchain for armhf Linux (Debian: g++-arm-linux-gnueabihf, tools/setup.sh --cross).
#   cmake -S . -B build/cross-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/armhf-linux-gnu.cmake \
#     -DWSPULSE_CLIENT_DEPS_INCLUDE_DIR=<a folder holding only asio.hpp, asio/, websocketpp/, rapidjson/>
# The dependencies are header-only: point at a folder that holds only them (never /usr/include,
# which would mix the host's glibc headers into the target build). make check-cross makes one.
# SPDX-License-Identifier: MIT
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # python3 and the tools run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf)
