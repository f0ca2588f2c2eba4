// wspulse_client — the engine behind basic_client: one I/O thread runs websocketpp and every
// timer; one callback thread runs the user's callbacks in order. The user-visible handle
// (basic_client) only owns a shared_ptr to this, so the engine can outlive a handle destroyed
// inside its own callback.
//
// Threads and what they touch:
// - any user thread: send() and close(), under mu_ (state_, queue_, pump_posted_); a sender
//   waiting for room sleeps on room_cv_, woken when a write frees slots or the client closes;
// - the I/O thread: everything websocketpp, the timers and the io-only fields below;
// - the callback thread: events_ (under ev_mu_), the user's callbacks (before_reconnect
//   included), the codec's decode, cb_log_url_;
// - a detached thread per host-name lookup (detail/transport.hpp), which touches none of this.
// Callbacks never run under a lock, on the I/O thread, or inside send()/close(); every call
// into user code on these threads is guarded against exceptions.
// SPDX-License-Identifier: MIT
#pragma once

#include "../error.hpp"
#include "../frame.hpp"
#include "../logger.hpp"
#include "../options.hpp"
#include "../redact.hpp"
#include "send_queue.hpp"
#include "start_thread.hpp"
#include "transport.hpp"
#include "tls.hpp"  // after transport.hpp: its content is gated on WSPULSE_CLIENT_ENABLE_TLS
#include "url.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace wspulse {
namespace detail {

enum class client_state : std::uint8_t { connecting, connected, reconnecting, closing, closed };

/// What basic_client needs of an engine, whichever transport (ws:// or wss://) it runs.
class core_interface {
 public:
  virtual ~core_interface() = default;
  /// Queues f, waiting at most `wait` for room in the send queue (0: never waits).
  virtual std::error_code send(const frame& f, std::chrono::milliseconds wait) = 0;
  virtual void close() = 0;
  virtual std::shared_future<void> done() const = 0;
  virtual bool connected() const noexcept = 0;
  // request/ack hook (issue 9 §2): runs fn on the callback thread, in order with the other
  // callbacks, once `delay` has passed; never once the client finished.
  virtual void call_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds, class Endpoint>
class client_core final : public core_interface,
                          public transport_observer,
                          public std::enable_shared_from_this<
                              client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Endpoint>> {
 public:
  using options_type = basic_options<Codec, Logger, Backoff, Heartbeat, Bounds>;

  client_core(dial_url url, options_type opts);
  ~client_core();
  client_core(const client_core&) = delete;
  client_core& operator=(const client_core&) = delete;

  /// Starts the threads and performs the first dial; blocks until it succeeded or failed.
  /// On failure every thread has stopped when this returns, and no callback ran.
  reason run_first_dial();

  std::error_code send(const frame& f, std::chrono::milliseconds wait) override;
  void close() override;
  std::shared_future<void> done() const override { return done_; }
  bool connected() const noexcept override { return connected_.load(std::memory_order_acquire); }
  void call_after(std::chrono::milliseconds delay, std::function<void()> fn) override;  // §2 hook

 private:
  using clock = std::chrono::steady_clock;
  using connection_ptr = typename Endpoint::connection_ptr;
  static constexpr bool secure = !std::is_same_v<Endpoint, plain_endpoint>;

  struct event {
    enum class kind : std::uint8_t { message, drop, restore, disconnect, stop, redial, call } what;
    std::string data;           // message: the raw bytes; redial: the URL of the next dial
    reason why;                 // drop / disconnect
    std::uint64_t transport{};  // message: the transport it came from
    header_list headers{};      // redial: the headers of the next dial
    // call: what call_after runs (request/ack hook, issue 9 §2)
    std::function<void()> call{};
  };

  std::error_code admission() const;         // why send() would refuse now, under mu_
  std::error_code admission_locked() const;  // the same, mu_ held

  void start_threads();  // throws std::system_error when the system refuses a thread

  // --- I/O thread ---
  void begin_dial();
  void dial_failed(reason why);
  void abandon_connection();
  void force_shut() { shut_socket(con_); }
  void on_open(std::uint64_t transport, const websocketpp::connection_hdl& hdl);
  void retire(const websocketpp::connection_hdl& hdl);
  static void shut_socket(const connection_ptr& con);
  void on_fail(std::uint64_t transport);
  void on_close(std::uint64_t transport);
  void on_message(std::uint64_t transport, std::string&& data);
  bool pump();  // true when every queued frame has been handed to websocketpp
  void send_close_frame();
  void start_heartbeat();
  void check_liveness();
  void arm_write_deadline(clock::time_point at);
  void ping_later();
  void drop_transport(reason cause);  // local cause: force the socket shut
  void begin_close();
  void schedule_redial();
  void redial(dial_url next, header_list headers, reason hook_failure);
  // Ends the client: disconnect (on_disconnect fires) or, for a failed first dial, stop.
  void finish(reason why, typename event::kind last = event::kind::disconnect);
  void stop_timers();
  void resume_reading();
  reason failure_reason(const connection_ptr& con);
  reason close_reason(const connection_ptr& con);
  static std::string transport_detail(const connection_ptr& con);
  bool is_current(std::uint64_t transport) const noexcept {
    return transport == transport_ && con_ != nullptr;
  }

  void on_write_start(std::uint64_t transport, std::size_t data_frames, bool close_frame) override;
  void on_write_done(std::uint64_t transport, std::size_t data_frames, bool ok) override;
  void on_bytes_read(std::uint64_t transport) override;
  void on_handler_threw(std::uint64_t transport, const std::string& what) override;

  // --- callback thread ---
  void post_event(event e);
  void callback_loop();
  void deliver(const event& e, frame& scratch);
  void run_reconnect_hook(event& e);
  void join_threads();
  bool stops_on_close_code(std::uint16_t code);
  template <class Fn, class... Args>
  void invoke(const char* which, const Fn& fn, const Args&... args);

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
  std::string log_url_;     // redacted once per URL; the I/O thread's copy
  std::string cb_log_url_;  // the callback thread's copy (before_reconnect may change the URL)

  asio::io_context io_;
  Endpoint endpoint_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::thread cb_thread_;
  std::thread::id cb_thread_id_;

  // Shared with user threads, under mu_.
  mutable std::mutex mu_;
  client_state state_ = client_state::connecting;
  bool pump_posted_ = false;
  bool close_requested_ = false;
  send_queue<Bounds::send_frames> queue_;
  std::condition_variable room_cv_;  // send_for: room in queue_, or closing
  std::size_t room_waiters_ = 0;     // senders waiting on room_cv_ (no notify without one)
  std::atomic<bool> connected_{false};

  // Callback hand-off, under ev_mu_.
  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  std::deque<event> events_;
  std::size_t inbound_waiting_ = 0;
  std::size_t inbound_bytes_ = 0;  // payload bytes of those messages
  static constexpr std::size_t inbound_bytes_bound = inbound_bytes_of<Bounds>::value;
  bool resume_wanted_ = false;
  bool events_closed_ = false;

  std::mutex join_mu_;  // close() may race with itself on several threads

  // I/O-thread only.
  std::string dial_text_;  // URL of the next dial (before_reconnect may change it)
  header_list headers_;    // headers of the next dial
  connection_ptr con_;
  std::uint64_t transport_ = 0;  // id of con_, so stale handlers of old transports are ignored
  bool open_ = false;            // con_ completed its handshake
  bool ever_opened_ = false;     // the first dial succeeded
  bool closing_ = false;         // close() reached the I/O thread
  bool close_sent_ = false;      // closing_: the close frame follows the accepted frames
  bool finished_ = false;
  bool reading_paused_ = false;
  bool has_local_cause_ = false;
  reason local_cause_;                // why this client ended the transport (empty = close())
  std::uint16_t lib_close_code_ = 0;  // a close websocketpp started itself (1009, 1002, 1007)
  std::size_t handed_ = 0;            // queue_ frames handed to websocketpp, write not yet complete
  std::size_t handed_bytes_ = 0;      // their encoded size, at most ~max_bytes_in_flight
  static constexpr std::size_t max_bytes_in_flight = 256 * 1024;  // per write (write_wait)
  bool write_in_flight_ = false;
  bool write_timer_armed_ = false;
  clock::time_point write_started_{};
  clock::time_point last_read_{};
  unsigned attempt_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
  asio::steady_timer dial_timer_{io_};
  asio::steady_timer ping_timer_{io_};
  asio::steady_timer live_timer_{io_};
  asio::steady_timer write_timer_{io_};
  asio::steady_timer close_timer_{io_};
  asio::steady_timer backoff_timer_{io_};
  asio::steady_timer uptime_timer_{io_};  // min_uptime: when a new transport counts as stable
  std::promise<reason> first_dial_;
  std::shared_ptr<std::string> tls_failure_ = std::make_shared<std::string>();  // wss:// only

  // Set by the callback thread after its last reference to this engine is gone, so a ready
  // done() also means the engine was destroyed if nothing else held it (see run_first_dial).
  std::shared_ptr<std::promise<void>> done_promise_ = std::make_shared<std::promise<void>>();
  std::shared_future<void> done_{done_promise_->get_future().share()};
};

}  // namespace detail
}  // namespace wspulse

#include "../impl/client_core.hpp"
