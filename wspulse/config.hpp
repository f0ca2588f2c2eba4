// wspulse_client — compile-time checks every part relies on.
// SPDX-License-Identifier: MIT
#pragma once

#if !defined(_MSVC_LANG) && __cplusplus < 201703L
#error "wspulse_client needs C++17 or newer: compile with -std=c++17 (or -std=c++20)."
#elif defined(_MSVC_LANG) && _MSVC_LANG < 201703L
#error "wspulse_client needs C++17 or newer: compile with /std:c++17 (or newer)."
#endif

#include "version.hpp"
