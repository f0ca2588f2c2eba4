// wspulse_client — detail::client_core: life cycle, send and close (see detail/client_core.hpp).
// SPDX-License-Identifier: MIT
#pragma once

namespace wspulse {
namespace detail {

#define WSPULSE_CORE_TEMPLATE                                                        \
  template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds, \
            class Dispatch, class Metrics, class Endpoint>
#define WSPULSE_CORE \
  client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics, Endpoint>

WSPULSE_CORE_TEMPLATE
WSPULSE_CORE::client_core(dial_url url, options_type opts, asio::io_context* io)
    : opts_(std::move(opts)),
      url_(std::move(url)),
      log_url_(Logger::enabled ? redact_url(url_.text) : std::string()),
      cb_log_url_(log_url_),
      owned_io_(io == nullptr ? std::make_unique<asio::io_context>(1) : nullptr),
      io_(io == nullptr ? *owned_io_ : *io),
      shared_((prime_websocketpp_statics(), shared_endpoint<Endpoint>::of(io_))),
      dial_text_(url_.text),
      headers_(opts_.dial_headers()) {}

WSPULSE_CORE_TEMPLATE
WSPULSE_CORE::~client_core() {
  // Normally close() joined the threads. When the handle died inside a callback, the last
  // reference may be an internal thread itself: it cannot join itself, so it detaches.
  for (std::thread* t : {&io_thread_, &cb_thread_}) {
    if (!t->joinable()) continue;
    if (t->get_id() == std::this_thread::get_id()) {
      t->detach();
    } else {
      t->join();
    }
  }
}

/// io.run() on the client's own I/O thread, but after handlers ran it polls for `spin` before
/// it blocks again: the callback thread's answer to a message then needs no wake-up here.
inline void run_io(asio::io_context& io, std::chrono::microseconds spin) {
  if (spin.count() == 0) {
    io.run();
    return;
  }
  spin_gate gate;
  while (io.run_one() != 0) {
    while (!io.stopped() && gate.try_now()) {
      const bool found = spin_for(spin, [&io] { return io.poll() != 0; });
      gate.found(found);
      if (!found) break;
    }
  }
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::start(dial_completion completion) {
  on_dialed_ = std::move(completion);
  lookup_.set_owner(this->weak_from_this());
  auto self = this->shared_from_this();
  // Each internal holder of a reference counts for done(): registered before its thread
  // starts (a thread may finish at once), withdrawn if it could not start.
  try {
    if (owned_io_) {
      done_state_->holders.fetch_add(1, std::memory_order_relaxed);
      try {
        io_thread_ = start_thread([self, work = asio::make_work_guard(io_)]() mutable {
          for (;;) {
            try {
              run_io(self->io_,
                     inline_callbacks ? std::chrono::microseconds{0} : spin_of<Dispatch>::value);
              break;
            } catch (const std::exception& ex) {  // a user hook or a dependency threw: go on
              if (self->logs(log_level::error))
                self->log(log_level::error, "I/O handler threw", {{"what", ex.what()}});
            }
          }
          work.reset();
          auto done = self->done_state_;
          self.reset();  // the engine may be destroyed here: io_ is not running any more
          done->release();
        });
      } catch (...) {
        done_state_->holders.fetch_sub(1, std::memory_order_relaxed);
        throw;
      }
    }
    if constexpr (!inline_callbacks) {
      done_state_->holders.fetch_add(1, std::memory_order_relaxed);
      try {
        cb_thread_ = start_thread([self]() mutable {
          self->callback_loop();
          auto done = self->done_state_;
          self.reset();  // a handle destroyed inside a callback: the engine dies here
          done->release();
        });
      } catch (...) {
        done_state_->holders.fetch_sub(1, std::memory_order_relaxed);
        throw;
      }
      cb_thread_id_ = cb_thread_.get_id();
    }
  } catch (const std::system_error& ex) {  // near the process's thread limit
    if (owned_io_) owned_io_->stop();
    join_threads();
    reason why(ex.code());
    why.detail = "cannot start a thread of the client";
    return why;
  }
  if (!owned_io_) {  // the application's io_context: the engine lives until it finished
    done_state_->holders.fetch_add(1, std::memory_order_relaxed);
    keep_alive_ = self;
  }
  post_io([](client_core& core) { core.begin_dial(); });
  return {};
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::run_first_dial() {
  if (!owned_io_ && io_.get_executor().running_in_this_thread()) {
    reason why(std::make_error_code(std::errc::resource_deadlock_would_occur));
    why.detail = "a blocking dial on the thread running its io_context: use async_dial";
    return why;
  }
  auto outcome = std::make_shared<std::promise<reason>>();
  std::future<reason> result = outcome->get_future();
  if (reason refused = start([outcome](reason why, std::shared_ptr<core_interface>) {
        outcome->set_value(std::move(why));
      }))
    return refused;
  reason why = result.get();
  if (why) wait_until_done();
  return why;
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::on_own_thread() const noexcept {
  return std::this_thread::get_id() == cb_thread_id_ || io_.get_executor().running_in_this_thread();
}

// ---------------------------------------------------------------- user threads

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::send(const frame& f, std::chrono::milliseconds wait) {
  // Refused without a lock and before paying for an encode.
  if (!accepting_.load(std::memory_order_acquire)) return errc::connection_closed;
  if (wait.count() <= 0 && queued_.load(std::memory_order_acquire) >= Bounds::send_frames) {
    metric([](auto& m) { m.message_dropped(drop_cause::send_buffer_full); });
    return errc::send_buffer_full;
  }
  std::string wire;
  std::error_code ec;
  opts_.codec().encode(f, wire, ec);  // on the caller's thread, outside the lock
  if (ec) return ec;
  if constexpr (Codec::wire == wire_type::text && !codec_writes_valid_utf8<Codec>::value) {
    if (!utf8_valid(wire)) return errc::invalid_payload;  // a server closes with 1007
  }
  bool wake = false;
  std::size_t depth = 0;
  std::error_code refused;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (wait.count() > 0 && admission_locked() == errc::send_buffer_full) {
      ++room_waiters_;
      room_cv_.wait_for(lock, wait,
                        [this] { return admission_locked() != errc::send_buffer_full; });
      --room_waiters_;
    }
    refused = admission_locked();
    if (!refused) {
      queue_.push(std::move(wire));
      depth = queue_.size();
      queued_.store(depth, std::memory_order_release);
      wake = state_ == client_state::connected && !pump_posted_;
      pump_posted_ = pump_posted_ || wake;
    }
  }
  if (refused) {
    if (refused == errc::send_buffer_full)
      metric([](auto& m) { m.message_dropped(drop_cause::send_buffer_full); });
    return refused;
  }
  metric([&](auto& m) { m.send_queue_depth(depth, Bounds::send_frames); });
  if (!wake) return {};
  // On the I/O thread (inline callbacks, or another client's handler on the same context)
  // the frame is handed over at once: no hop, and a reply joins the write in progress.
  if (io_.get_executor().running_in_this_thread()) {
    pump();
  } else {
    post_io([](client_core& core) { core.pump(); });
  }
  return {};
}

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::admission_locked() const {
  if (state_ == client_state::closing || state_ == client_state::closed)
    return errc::connection_closed;
  if (queue_.full()) return errc::send_buffer_full;
  return {};
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::request_close() {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!close_requested_) {
      close_requested_ = true;
      first = true;
      if (state_ != client_state::closed) state_ = client_state::closing;
      accepting_.store(false, std::memory_order_release);
    }
  }
  room_cv_.notify_all();  // senders waiting for room get connection_closed
  if (first) post_io([](client_core& core) { core.begin_close(); });
  return first;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::close() {
  request_close();
  // On a thread of its own (inside a callback, or on the io_context's thread) waiting would
  // deadlock: the client finishes on its own.
  if (!on_own_thread()) wait_until_done();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::async_close(std::function<void()> then) {
  bool now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now = disconnected_;
    if (!now && then) after_done_.push_back(std::move(then));
  }
  request_close();
  if (now && then) then();  // already done: on the caller's thread
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::wait_until_done() {
  // An owned io_context ends with the engine: its thread's exit is the end. On the
  // application's context, the end is done() (the context must be running meanwhile).
  if (owned_io_) {
    join_threads();
  } else {
    done_.wait();
    join_threads();
  }
}

// request/ack hook (issue 9 §2): one timer per call, on the I/O thread; what it runs goes to the
// callback side like any event (nothing runs after on_disconnect).
WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::call_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  post_io([delay, fn = std::move(fn)](client_core& self) mutable {
    if (self.finished_) return;
    auto timer = std::make_shared<asio::steady_timer>(self.io_, delay);
    timer->async_wait(self.weak_handler(
        [timer, fn = std::move(fn)](client_core& core, const std::error_code& ec) mutable {
          if (!ec && !core.finished_)
            core.post_event({event::kind::call, {}, {}, 0, {}, std::move(fn)});
        }));
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::join_threads() {
  std::lock_guard<std::mutex> lock(join_mu_);
  if (io_thread_.joinable()) io_thread_.join();
  if (cb_thread_.joinable()) cb_thread_.join();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::release_io_holder() {
  // Posted, so that the handler that finished the engine has returned (and dropped its own
  // reference) first; on an owned io_context the I/O thread's exit does this.
  if (owned_io_) return owned_io_->stop();
  asio::post(io_, [self = std::move(keep_alive_), done = done_state_]() mutable {
    self.reset();
    done->release();
  });
}

}  // namespace detail
}  // namespace wspulse
