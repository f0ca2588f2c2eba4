// wspulse_client — basic_client: connect, send, receive, survive network failures.
// SPDX-License-Identifier: MIT
#pragma once

#include "codec.hpp"
#include "detail/client_core.hpp"
#include "detail/requests.hpp"  // request/ack (issue 9 §2)
#include "error.hpp"
#include "frame.hpp"
#include "logger.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "policies.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string_view>

namespace wspulse {

/// A wspulse client. Policies fix at compile time: the codec, the logger, the reconnect
/// backoff, the heartbeat, the buffer bounds, where callbacks run and the metrics collector. Move-only; the
/// destructor closes.
///
/// Where it runs: dial(url, …) gives the client its own io_context and I/O thread;
/// dial(io, url, …) / async_dial(io, url, …) run it on the application's io_context, which one
/// thread runs (many clients may share it; for more cores, one io_context per thread).
/// Callbacks run one at a time, in order, never under an internal lock: on a callback thread
/// of the client's (callback_thread, the default) or inline on the I/O thread
/// (inline_callbacks: no hop, handlers must not block).
///
/// Thread-safety: send(), close(), done() and connected() may be called from any thread,
/// including from inside the client's own callbacks.
template <class Codec = json_codec, class Logger = json_logger,
          class Backoff = exponential_backoff<>, class Heartbeat = heartbeat<>,
          class Bounds = buffer_bounds<>, class Dispatch = callback_thread,
          class Metrics = null_metrics>
class basic_client {
  static_assert(detail::is_dispatch_policy<Dispatch>::value,
                "wspulse: Dispatch must be callback_thread or inline_callbacks");
  static_assert(detail::is_metrics_policy<Metrics>::value,
                "wspulse: Metrics must declare `static constexpr bool enabled` (see null_metrics)");

 public:
  using options = basic_options<Codec, Logger, Backoff, Heartbeat, Bounds, Metrics>;

  /// An empty client (what a failed non-throwing dial returns): operator bool is false,
  /// send() returns errc::connection_closed, done() is ready.
  basic_client() noexcept = default;
  basic_client(basic_client&&) noexcept = default;
  basic_client& operator=(basic_client&& other) noexcept;
  ~basic_client() { close(); }

  /// Connects (ws://, wss://; http(s):// are mapped) and blocks until the upgrade completes,
  /// at most options::handshake_timeout. Never retries. Throws dial_error with the reason.
  static basic_client dial(std::string_view url, options opts = {});
  /// As above; on failure returns an empty client and sets `why`. Never throws.
  static basic_client dial(std::string_view url, options opts, reason& why) noexcept;
  /// As above, on the application's io_context, which another thread must be running; on the
  /// thread running it, fails with std::errc::resource_deadlock_would_occur (use async_dial).
  static basic_client dial(asio::io_context& io, std::string_view url, options opts = {});
  static basic_client dial(asio::io_context& io, std::string_view url, options opts,
                           reason& why) noexcept;
  /// Starts the dial and returns; `handler(reason, basic_client)` runs once with the outcome
  /// (an empty client on failure), where the client's callbacks run. On the application's
  /// io_context, a failure found before dialing (bad URL) is posted to it; on the client's own,
  /// it runs before async_dial returns.
  template <class Handler>
  static void async_dial(std::string_view url, options opts, Handler&& handler);
  template <class Handler>
  static void async_dial(asio::io_context& io, std::string_view url, options opts,
                         Handler&& handler);

  /// Queues a frame; never blocks. {} | connection_closed | send_buffer_full | the codec's error.
  std::error_code send(frame f);
  /// As send(), but waits up to `timeout` for room when the send queue is full (a bulk sender
  /// then needs no retry loop): send_buffer_full only once `timeout` passed without room;
  /// connection_closed at once if the client closes meanwhile. Encodes once, before waiting.
  /// From a callback it delays the client's next callbacks by up to `timeout`.
  std::error_code send_for(frame f, std::chrono::milliseconds timeout);
  /// Flushes accepted frames (within write_wait), closes with 1000, fires on_transport_drop
  /// (if a transport was open) and on_disconnect, and returns once the client is done and its
  /// threads have finished: unless called on a thread of the client's (a callback, or the
  /// thread running its io_context), where it returns at once. Idempotent.
  void close();
  /// Starts closing and returns; `handler()` runs once on_disconnect has returned (where the
  /// callbacks run; on the calling thread if that already happened).
  template <class Handler>
  void async_close(Handler&& handler);
  // ---- request / acknowledge (issue 9 §2; bodies in impl/request.hpp) ----
  /// Runs once where callbacks run: with the answer (`failure` empty) or why it failed.
  using request_handler = std::function<void(const reason& failure, const frame& answer)>;
  /// Sends `f` and returns a future of its answer: the first inbound frame with the same `id`
  /// that is not the room's echo of `f` itself (a frame equal to `f` as the codec reads it
  /// back). An empty id gets a unique one. The future fails with a request_error: code
  /// errc::request_timeout after `timeout` ((0, 10 min]), the drop's reason when the transport
  /// drops first, the disconnect reason (errc::connection_closed after close()), or why it
  /// could not be sent (send()'s errors, errc::too_many_requests, errc::duplicate_request).
  /// The answer does not reach on_message; the echo, and an answer after the request ended, do.
  std::future<frame> request(frame f, std::chrono::milliseconds timeout);
  /// As request(f, timeout), completed by `on_done`. Returns an error (and never calls
  /// `on_done`) when the request could not be sent; {} when `on_done` will run exactly once.
  std::error_code request(frame f, std::chrono::milliseconds timeout, request_handler on_done);
  /// As request(), matched by `key` instead of the id: the answer is the first inbound frame
  /// for which options::answer_key returns `key` (the hub drops `id`: its applications put
  /// the key in the payload). `f` is sent as it is. Without answer_key: std::errc::invalid_argument.
  std::future<frame> request_keyed(std::string key, frame f, std::chrono::milliseconds timeout);
  std::error_code request_keyed(std::string key, frame f, std::chrono::milliseconds timeout,
                                request_handler on_done);

  /// Ready once the client is permanently finished (on_disconnect has returned).
  std::shared_future<void> done() const;
  /// A transport is open right now.
  bool connected() const noexcept { return core_ && core_->connected(); }
  explicit operator bool() const noexcept { return core_ != nullptr; }

 private:
  template <class Endpoint>
  using core_type =
      detail::client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics, Endpoint>;
  using core_ptr = std::shared_ptr<detail::core_interface>;
  using requests_ptr = std::shared_ptr<detail::request_table>;
  explicit basic_client(core_ptr core, requests_ptr requests = nullptr) noexcept
      : core_(std::move(core)), requests_(std::move(requests)) {}
  static core_ptr make_core(std::string_view url, options&& opts, asio::io_context* io,
                            reason& why);
  static basic_client dial_on(asio::io_context* io, std::string_view url, options&& opts,
                              reason& why) noexcept;
  template <class Handler>
  static void async_dial_on(asio::io_context* io, std::string_view url, options&& opts,
                            Handler&& handler);

  std::error_code start_request(detail::request_table::match how, std::string key, frame f,
                                std::chrono::milliseconds timeout,
                                detail::request_table::completion done);  // issue 9 §2

  core_ptr core_;
  requests_ptr requests_;  // request/ack (issue 9 §2)
};

/// The client with every default policy.
using client = basic_client<>;
/// Options of wspulse::client.
using options = client::options;

// The two below are templates only so that a translation unit that includes the library
// without calling them does not instantiate the whole client (4-5 s of compile time per TU);
// Client is never deduced (`options` is a non-deduced context): it is always `client`.

/// Same as client::dial.
template <typename Client = client>
Client dial(std::string_view url, typename Client::options opts = {}) {
  return Client::dial(url, std::move(opts));
}
/// Same as client::dial(url, opts, why): never throws; an empty client on failure.
template <typename Client = client>
Client dial(std::string_view url, typename Client::options opts, reason& why) noexcept {
  return Client::dial(url, std::move(opts), why);
}

}  // namespace wspulse

#include "impl/client.hpp"
#include "impl/request.hpp"  // request/ack (issue 9 §2)
