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
