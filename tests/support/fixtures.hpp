// wspulse_client tests — what the client suites share: a quiet client type and a wait for
// the bundled server to know a connection.
// SPDX-License-Identifier: MIT
#pragma once

#include "log_sink.hpp"
#include "proc_self.hpp"
#include "wait_until.hpp"

#include <wspulse_client.hpp>

#include "wspulse_testserver.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace wspulse::test_support {

/// The mode the client suites run their client type in. By default: the client's own
/// io_context and I/O thread, callbacks on its callback thread. Built with
/// WSPULSE_TEST_INLINE_SHARED (the client_tests_inline executable): every client of the
/// process on one shared io_context run by one thread, callbacks inline.
#ifdef WSPULSE_TEST_INLINE_SHARED
inline constexpr bool inline_shared_mode = true;
using test_dispatch = inline_callbacks;
#else
inline constexpr bool inline_shared_mode = false;
using test_dispatch = callback_thread;
#endif

/// The io_context (and its one thread) every client of the inline-shared run shares.
inline asio::io_context& shared_io() {
  struct runner {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};
    ~runner() {
      work.reset();
      io.stop();  // a client a failed test leaked must not hang the exit
      thread.join();
    }
  };
  static runner shared;
  return shared.io;
}

/// Every default policy but Dispatch (test_dispatch); logs to log_sink, which is off unless a
/// test or WSPULSE_TEST_LOG=1 turns it on. dial() goes to the shared io_context in the
/// inline-shared run.
using quiet_base = basic_client<json_codec, sink_logger, exponential_backoff<>, heartbeat<>,
                                buffer_bounds<>, test_dispatch>;
class quiet_client : public quiet_base {
 public:
  quiet_client() noexcept = default;
  quiet_client(quiet_base&& c) noexcept : quiet_base(std::move(c)) {}  // NOLINT: a conversion

  static quiet_client dial(std::string_view url, options opts = {}) {
    if constexpr (inline_shared_mode) return quiet_base::dial(shared_io(), url, std::move(opts));
    return quiet_base::dial(url, std::move(opts));
  }
  static quiet_client dial(std::string_view url, options opts, reason& why) noexcept {
    if constexpr (inline_shared_mode)
      return quiet_base::dial(shared_io(), url, std::move(opts), why);
    return quiet_base::dial(url, std::move(opts), why);
  }
};
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
  if constexpr (inline_shared_mode) (void)shared_io();  // its thread counts from the start
  return live_threads();
}

/// A drop caused by a server close (kick, duplicate id, shutdown), as the hub delivers it: it
/// writes the close frame in about two closes of three (behaviour.md § "The hub on the wire"),
/// so the drop is server_closed with that code and text when the frame arrived and
/// connection_lost when it did not (the test server's close_mode::no_frame / random, e.g. the
/// WSPULSE_TESTSERVER_CLOSE=no_frame run of the client suites).
inline bool is_hub_close(const reason& r, std::uint16_t code, std::string_view text) {
  if (r.code == errc::server_closed) return r.close_code == code && r.close_text == text;
  return r.code == errc::connection_lost && r.close_code == 0;
}

/// Server options for a test that needs the close frame to arrive (what it checks is the
/// client's handling of the frame), whatever WSPULSE_TESTSERVER_CLOSE says.
inline testing::server_options closing_with_frame() {
  testing::server_options options;
  options.close = testing::close_mode::frame;
  return options;
}

}  // namespace wspulse::test_support
