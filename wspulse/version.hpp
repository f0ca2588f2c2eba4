// wspulse_client — version: the one place the version is written (CMake and meson read it).
// SPDX-License-Identifier: MIT
#pragma once

#define WSPULSE_CLIENT_VERSION_MAJOR 0
#define WSPULSE_CLIENT_VERSION_MINOR 1
#define WSPULSE_CLIENT_VERSION_PATCH 0
#define WSPULSE_CLIENT_VERSION_STRING "0.1.0"
