// wspulse_client — header-only C++17 client for the wspulse WebSocket protocol.
// This umbrella header includes every part; single_include/wspulse_client.hpp is generated
// from it by tools/amalgamate and behaves the same.
// SPDX-License-Identifier: MIT
#pragma once

#include "wspulse/config.hpp"
#include "wspulse/frame.hpp"
#include "wspulse/error.hpp"
#include "wspulse/codec.hpp"
#include "wspulse/logger.hpp"
#include "wspulse/metrics.hpp"
#include "wspulse/redact.hpp"
#include "wspulse/policies.hpp"
#include "wspulse/options.hpp"
#include "wspulse/client.hpp"
#include "wspulse/router.hpp"
