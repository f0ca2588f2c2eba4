// wspulse_client tests — what the client suites share: a quiet client type and a wait for
// the bundled server to know a connection.
// SPDX-License-Identifier: MIT
#pragma once

#include "log_sink.hpp"
#include "wait_until.hpp"

#include <wspulse_client.hpp>

#include "wspulse_testserver.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
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

/// Threads of this process right now (Linux: /proc/self/task).
inline std::size_t thread_count() {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    n += entry.exists() ? 1 : 0;
  return n;
}

}  // namespace wspulse::test_support
