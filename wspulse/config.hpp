// wspulse_client — compile-time checks every part relies on.
// SPDX-License-Identifier: MIT
#pragma once

#if !defined(_MSVC_LANG) && __cplusplus < 201703L
#error "wspulse_client needs C++17 or newer: compile with -std=c++17 (or -std=c++20)."
#elif defined(_MSVC_LANG) && _MSVC_LANG < 201703L
#error "wspulse_client needs C++17 or newer: compile with /std:c++17 (or newer)."
#endif

#include "version.hpp"

// websocketpp and Asio report errors by throwing (the library turns them into error codes), and
// dial() and the option setters throw: a build without exceptions cannot work.
#if !defined(__cpp_exceptions) && !defined(__EXCEPTIONS) && !defined(_CPPUNWIND)
#error \
    "wspulse_client needs C++ exceptions (websocketpp and Asio report errors by throwing; dial() and the option setters throw): remove -fno-exceptions for the files that include it."
#endif
