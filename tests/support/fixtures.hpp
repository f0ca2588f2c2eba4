// wspulse_client tests — what the client suites share: a quiet client type and a wait for
// the bundled server to know a connection.
// SPDX-License-Identifier: MIT
#pragma once

#include "log_sink.hpp"
#include "wait_until.hpp"

#include <wspulse_client.hpp>

#include "wspulse_testserver.hpp"

#include <chrono>
#include <string>

namespace wspulse::test_support {

/// Every default policy; logs to log_sink, which is off unless a test or WSPULSE_TEST_LOG=1
/// turns it on.
using quiet_client = basic_client<json_codec, sink_logger>;
using quiet_options = quiet_client::options;

/// The client may see the 101 before the server's open handler ran: wait until the server
/// knows the connection before steering it by id.
inline bool server_knows(const testing::test_server& server, const std::string& id,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return wait_until(
      [&] {
        for (const auto& c : server.connections())
          if (c.id == id) return true;
        return false;
      },
      timeout);
}

}  // namespace wspulse::test_support
