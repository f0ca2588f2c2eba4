// wspulse_client — the engine behind basic_client. The user-visible handle only owns a
// shared_ptr to it, so the engine outlives a handle destroyed inside its own callback.
//
// Where it runs: on an asio::io_context, either one the engine owns (with one I/O thread), or
// the application's (no thread of its own; the application runs the context on one thread, so
// the context is the engine's strand). Callbacks run by the Dispatch policy: on a callback
// thread of the client's own, or inline on the I/O thread.
//
// Threads and what they touch:
// - any user thread: send(), close(), under mu_ (state_, queue_, pump_posted_); a sender
//   waiting for room sleeps on room_cv_, woken when a write frees slots or the client closes;
// - the I/O thread: everything websocketpp, the timers, tx_ and the other I/O-only fields;
//   every handler it runs holds the engine weakly (or strongly, while it runs);
// - the callback side (the callback thread, or the I/O thread when inline): the user's
//   callbacks (before_reconnect included), the codec's decode, cb_log_url_;
// - a detached thread per host-name lookup (detail/host_lookup.hpp), which touches none of this.
// Callbacks never run under a lock or inside send()/close(); every call into user code is
// guarded against exceptions. Bodies: impl/client_core.hpp (life cycle, send, close),
// impl/client_dial.hpp (dialing, reconnect), impl/client_session.hpp (one open transport),
// impl/client_callbacks.hpp (the callback side).
// SPDX-License-Identifier: MIT
#pragma once

#include "../error.hpp"
#include "../frame.hpp"
#include "../logger.hpp"
#include "../metrics.hpp"
#include "../options.hpp"
#include "../policies.hpp"
#include "../redact.hpp"
#include "event_queue.hpp"
#include "frame_writer.hpp"
#include "json_text.hpp"
#include "send_queue.hpp"
#include "shared_endpoint.hpp"
#include "spin.hpp"
#include "start_thread.hpp"
#include "transport.hpp"
#include "tls.hpp"  // after transport.hpp: its content is gated on WSPULSE_CLIENT_ENABLE_TLS
#include "url.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace wspulse {
namespace detail {

enum class client_state : std::uint8_t { connecting, connected, reconnecting, closing, closed };

/// What basic_client needs of an engine, whichever transport (ws:// or wss://) it runs.
class core_interface {
 public:
  /// The first dial's outcome: an engine on success, the reason and no engine on failure.
  using dial_completion = std::function<void(reason, std::shared_ptr<core_interface>)>;
  virtual ~core_interface() = default;
  /// Starts the threads and the first dial; `completion` runs on the callback side with its
  /// outcome. A reason here (no thread could be started) means: nothing runs, no completion.
  virtual reason start(dial_completion completion) = 0;
  /// The blocking dial from a thread that may wait: start() and wait for the outcome. On
  /// failure every thread has stopped when this returns, and no callback ran.
  virtual reason run_first_dial() = 0;
  /// Queues f, waiting at most `wait` for room in the send queue (0: never waits).
  virtual std::error_code send(const frame& f, std::chrono::milliseconds wait) = 0;
  /// Starts closing; waits for the end unless called on a thread of the client's own.
  virtual void close() = 0;
  /// Starts closing; `then` runs once the client is done (after on_disconnect).
  virtual void async_close(std::function<void()> then) = 0;
  virtual std::shared_future<void> done() const = 0;
  virtual bool connected() const noexcept = 0;
  // request/ack hook (issue 9 §2): runs fn where callbacks run, in order with them, once
  // `delay` has passed; never once the client finished.
  virtual void call_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds, class Dispatch,
          class Metrics, class Endpoint>
class client_core final
    : public core_interface,
      public transport_observer,
      public std::enable_shared_from_this<
          client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics, Endpoint>> {
 public:
  using options_type = basic_options<Codec, Logger, Backoff, Heartbeat, Bounds, Metrics>;

  /// `io` null: the engine owns its io_context and I/O thread.
  client_core(dial_url url, options_type opts, asio::io_context* io);
  ~client_core();
  client_core(const client_core&) = delete;
  client_core& operator=(const client_core&) = delete;

  reason start(dial_completion completion) override;
  reason run_first_dial() override;
  std::error_code send(const frame& f, std::chrono::milliseconds wait) override;
  void close() override;
  void async_close(std::function<void()> then) override;
  std::shared_future<void> done() const override { return done_; }
  bool connected() const noexcept override { return connected_.load(std::memory_order_acquire); }
  void call_after(std::chrono::milliseconds delay, std::function<void()> fn) override;

  /// The calling thread may not wait for this client (its I/O thread or callback thread).
  bool on_own_thread() const noexcept;

 private:
  using clock = std::chrono::steady_clock;
  using connection_ptr = typename Endpoint::connection_ptr;
  static constexpr bool secure = !std::is_same_v<Endpoint, plain_endpoint>;
  static constexpr bool inline_callbacks = Dispatch::runs_inline;
  static constexpr bool metered = Metrics::enabled;

  /// One transport's state, replaced whole by each dial.
  struct transport_state {
    connection_ptr con;
    std::uint64_t id = 0;          // stale handlers of older transports are ignored by id
    bool open = false;             // the handshake completed
    bool close_sent = false;       // closing: the close frame follows the accepted frames
    bool reading_paused = false;   // the callback side is behind
    bool has_local_cause = false;  // this client ended it (cause below; empty = close())
    reason local_cause;
    std::uint16_t lib_close_code = 0;  // a close websocketpp started itself (1009, 1002, 1007)
    std::size_t handed = 0;            // queue_ frames handed to websocketpp, write not done
    std::size_t handed_bytes = 0;      // their encoded size, at most ~max_bytes_in_flight
    bool write_in_flight = false;
    bool write_timer_armed = false;
    clock::time_point write_started{};
    clock::time_point last_read{};
    // Metrics only (set when Metrics::enabled):
    clock::time_point dial_started{};
    clock::time_point opened_at{};
    clock::time_point ping_sent{};  // the client's ping waiting for its pong, or {}
  };

  // Calls fn(engine, args...) from an I/O handler while the engine lives.
  template <class Fn>
  auto weak_handler(Fn fn) {
    return [weak = this->weak_from_this(), fn = std::move(fn)](auto&&... args) mutable {
      if (auto self = weak.lock()) fn(*self, std::forward<decltype(args)>(args)...);
    };
  }
  template <class Fn>
  void post_io(Fn fn) {
    asio::post(io_, weak_handler([fn = std::move(fn)](client_core& self) mutable { fn(self); }));
  }

  // --- user threads (impl/client_core.hpp) ---
  std::error_code admission_locked() const;  // why send() would refuse now, mu_ held
  bool request_close();                      // true for the first call
  void wait_until_done();
  void join_threads();
  void release_io_holder();  // the I/O side's reference is gone (done() may become ready)

  // --- I/O thread: dialing and reconnecting (impl/client_dial.hpp) ---
  void begin_dial();
  void on_open(std::uint64_t transport, const websocketpp::connection_hdl& hdl);
  void on_fail(std::uint64_t transport);
  reason failure_reason(const connection_ptr& con);
  void dial_failed(reason why);
  void schedule_redial();
  void redial(dial_url next, header_list headers, reason hook_failure);
  void abandon_connection();
  void retire(const websocketpp::connection_hdl& hdl);

  // --- I/O thread: the open transport (impl/client_session.hpp) ---
  bool pump();  // true when every queued frame has been handed to websocketpp
  void send_close_frame();
  void start_heartbeat();
  void ping_later();
  void check_liveness();
  void arm_write_deadline(clock::time_point at);
  void on_message(std::uint64_t transport, std::string&& data);
  void resume_reading();
  void drop_transport(reason cause);  // local cause: force the socket shut
  static void shut_socket(const connection_ptr& con);
  void begin_close();
  void on_close(std::uint64_t transport);
  reason close_reason(const connection_ptr& con);
  static std::string transport_detail(const connection_ptr& con);
  // Ends the client: disconnect (on_disconnect fires) or, for a failed first dial, stop.
  void finish(reason why, event::kind last = event::kind::disconnect);
  void stop_timers();
  Endpoint& endpoint() noexcept { return shared_.endpoint(); }
  bool is_current(std::uint64_t transport) const noexcept {
    return transport == tx_.id && tx_.con != nullptr;
  }

  void on_write_start(std::uint64_t transport, std::size_t data_frames, bool close_frame) override;
  void on_write_done(std::uint64_t transport, std::size_t data_frames, bool ok) override;
  void on_bytes_read(std::uint64_t transport) override;
  void on_read_processed(std::uint64_t transport) override;
  void on_handler_threw(std::uint64_t transport, const std::string& what) override;

  // --- the callback side (impl/client_callbacks.hpp) ---
  void post_event(event e);
  void callback_loop();
  bool handle(event& e, frame& scratch);  // true after the last event
  void deliver(const std::string& data, std::uint64_t transport, frame& scratch);
  void run_reconnect_hook(event& e);
  void complete_dial(reason why);
  bool stops_on_close_code(std::uint16_t code);
  template <class Fn, class... Args>
  void invoke(const char* which, const Fn& fn, Args&&... args);

  // metric([&](auto& m) { m.hook(…); }): compiled out (with what computes its arguments, when
  // that sits inside the lambda) unless Metrics::enabled. A hook that throws loses one figure.
  template <class Fn>
  void metric(Fn&& fn) noexcept {
    if constexpr (metered) {
      try {
        fn(opts_.metrics());
      } catch (...) {
      }
    }
  }
  static std::chrono::microseconds micros(clock::duration d) noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(d);
  }

  // Call sites test logs(level) first, so a disabled logger never builds its fields. A
  // logger that throws loses that record and nothing else.
  bool logs(log_level level) noexcept { return should_log(opts_.logger(), level); }
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields) noexcept {
    try {
      opts_.logger().log(level, message, fields);
    } catch (...) {
    }
  }

  options_type opts_;
  dial_url url_;
  std::string log_url_;     // redacted once per URL (empty when nothing logs); I/O thread
  std::string cb_log_url_;  // the callback side's copy (before_reconnect may change the URL)

  std::unique_ptr<asio::io_context> owned_io_;  // null on the application's io_context
  asio::io_context& io_;
  shared_endpoint<Endpoint>& shared_;  // the io_context's endpoint and masking keys
  host_lookup<typename Endpoint::transport_type> lookup_;  // this client's dials
  std::thread io_thread_;                                  // owned io_context only
  std::thread cb_thread_;                                  // callback_thread only
  std::thread::id cb_thread_id_;
  std::shared_ptr<client_core> keep_alive_;  // application's io_context: alive until finished

  // Shared with user threads, under mu_ (accepting_ and queued_ mirror it for a lock-free
  // refusal before the encode).
  mutable std::mutex mu_;
  client_state state_ = client_state::connecting;
  bool pump_posted_ = false;
  bool close_requested_ = false;
  send_queue<Bounds::send_frames> queue_;
  std::condition_variable room_cv_;  // send_for: room in queue_, or closing
  std::size_t room_waiters_ = 0;     // senders waiting on room_cv_ (no notify without one)
  std::atomic<bool> accepting_{true};
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> connected_{false};

  // The callback side.
  struct no_event_queue {  // inline_callbacks: nothing waits, nothing to allocate
    no_event_queue(std::size_t, std::size_t) noexcept {}
  };
  std::conditional_t<inline_callbacks, no_event_queue, event_queue> events_{
      Bounds::inbound_frames, inbound_bytes_of<Bounds>::value};
  bool events_closed_ = false;  // inline: the last event was handled
  dial_completion on_dialed_;
  std::vector<std::function<void()>> after_done_;  // async_close continuations, under mu_
  bool disconnected_ = false;                      // under mu_: on_disconnect has returned

  std::mutex join_mu_;  // close() may race with itself on several threads

  // I/O-thread only.
  std::string dial_text_;  // URL of the next dial (before_reconnect may change it)
  header_list headers_;    // headers of the next dial
  transport_state tx_;
  std::uint64_t transports_ = 0;  // ids handed out
  bool ever_opened_ = false;      // the first dial succeeded
  bool closing_ = false;          // close() reached the I/O thread
  bool finished_ = false;
  static constexpr std::size_t max_bytes_in_flight = 256 * 1024;  // per write (write_wait)
  unsigned attempt_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
  asio::steady_timer dial_timer_{io_};  // the backoff delay, then the dial's handshake deadline
  asio::steady_timer ping_timer_{io_};
  asio::steady_timer live_timer_{io_};
  asio::steady_timer write_timer_{io_};
  asio::steady_timer close_timer_{io_};
  asio::steady_timer uptime_timer_{io_};  // min_uptime: when a new transport counts as stable
  std::shared_ptr<std::string> tls_failure_ = std::make_shared<std::string>();  // wss:// only

  // done() is ready once the engine finished, on_disconnect returned and every internal
  // holder (I/O thread or keep_alive_, callback thread) dropped its reference: if nothing
  // else held the engine, it is destroyed by then.
  struct done_state {
    std::promise<void> ready;
    std::atomic<int> holders{0};
    void release() {
      if (holders.fetch_sub(1, std::memory_order_acq_rel) == 1) ready.set_value();
    }
  };
  std::shared_ptr<done_state> done_state_ = std::make_shared<done_state>();
  std::shared_future<void> done_{done_state_->ready.get_future().share()};
};

}  // namespace detail
}  // namespace wspulse

#include "../impl/client_core.hpp"
#include "../impl/client_dial.hpp"
#include "../impl/client_session.hpp"
#include "../impl/client_callbacks.hpp"
