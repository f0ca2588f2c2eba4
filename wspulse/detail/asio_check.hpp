// wspulse_client — checks on the Asio that websocketpp will be built with. Included before any
// Asio or websocketpp header, so a wrong setup stops with a message that names the fix.
// SPDX-License-Identifier: MIT
#pragma once

#include "../config.hpp"

// clang-format off: one line per #error reads best in a compiler's output
#ifndef ASIO_STANDALONE
#error \
    "wspulse_client uses standalone Asio: define ASIO_STANDALONE (e.g. -DASIO_STANDALONE, or link the wspulse::client target). Without it websocketpp silently switches to Boost.Asio."
#endif

// Without RTTI (-fno-rtti) Asio must not use typeid; it only detects that through Boost.Config.
#if !defined(ASIO_NO_TYPEID) && !defined(__cpp_rtti) && !defined(__GXX_RTTI) && !defined(_CPPRTTI)
#define ASIO_NO_TYPEID 1
#endif

// g++ 11+ rejects websocketpp 0.8.x in C++20 mode (`~endpoint<connection, config>()`). The
// fixed copies tools/patch_websocketpp.py writes carry a mark; without it, stop here with the fix
// instead of inside websocketpp. Define WSPULSE_CLIENT_NO_WEBSOCKETPP_CHECK if your websocketpp
// is fixed another way.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && __cplusplus > 201703L && \
    !defined(WSPULSE_CLIENT_NO_WEBSOCKETPP_CHECK)
#if __has_include(<websocketpp/wspulse_cxx20_fixed.hpp>)
#include <websocketpp/wspulse_cxx20_fixed.hpp>
#else
#error \
    "wspulse_client: g++ 11+ with C++20 rejects websocketpp 0.8.x's headers. Fix: run `python3 tools/patch_websocketpp.py DIR` (from the wspulse_client repository) once and compile with `-isystem DIR` (before other include paths), or use -std=c++17. The CMake target, the meson dependency and the installed pkg-config file already do this."
#endif
#endif

#include <asio/version.hpp>

// websocketpp 0.8.x uses io_service, expires_from_now and resolver::query, which Asio 1.33
// (Boost 1.87) removed.
#if ASIO_VERSION >= 103300
#error \
    "wspulse_client: this Asio is too new for websocketpp 0.8.x (it removed io_service). Use Asio <= 1.32 (Debian 12: libasio-dev 1.22)."
#endif

#ifdef ASIO_NO_DEPRECATED
#error \
    "wspulse_client: do not define ASIO_NO_DEPRECATED; websocketpp 0.8.x needs Asio's deprecated io_service API."
#endif
// clang-format on
