// wspulse_client — bodies of detail::client_core (see detail/client_core.hpp for the design).
// SPDX-License-Identifier: MIT
#pragma once

namespace wspulse {
namespace detail {

#define WSPULSE_CORE_TEMPLATE \
  template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds, class Endpoint>
#define WSPULSE_CORE client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Endpoint>

WSPULSE_CORE_TEMPLATE
WSPULSE_CORE::client_core(dial_url url, options_type opts)
    : opts_(std::move(opts)),
      url_(std::move(url)),
      log_url_(redact_url(url_.text)),
      cb_log_url_(log_url_),
      work_(asio::make_work_guard(io_)),
      dial_text_(url_.text),
      headers_(opts_.dial_headers()) {
  prime_websocketpp_statics();
  endpoint_.init_asio(&io_);
  endpoint_.set_user_agent("wspulse-client-cpp/" WSPULSE_CLIENT_VERSION_STRING);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  if constexpr (secure) {
    endpoint_.set_tls_init_handler([this](websocketpp::connection_hdl) {
      // Empty (the dial fails with *tls_failure_ as its reason) when a file cannot be used.
      return make_tls_context(websocketpp::uri(dial_text_).get_host(), opts_, tls_failure_);
    });
  }
#endif
}

WSPULSE_CORE_TEMPLATE
WSPULSE_CORE::~client_core() {
  // Normally close() joined both threads. When the handle died inside a callback, the last
  // reference is the callback thread itself: it cannot join itself, so it detaches.
  for (std::thread* t : {&io_thread_, &cb_thread_}) {
    if (!t->joinable()) continue;
    if (t->get_id() == std::this_thread::get_id()) {
      t->detach();
    } else {
      t->join();
    }
  }
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::run_first_dial() {
  std::future<reason> result = first_dial_.get_future();
  try {
    start_threads();
  } catch (const std::system_error& ex) {  // near the process's thread limit
    work_.reset();
    io_.stop();
    join_threads();
    reason why(ex.code());
    why.detail = "cannot start a thread of the client";
    return why;
  }
  asio::post(io_, [this] { begin_dial(); });
  reason why = result.get();
  if (why) join_threads();
  return why;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::start_threads() {
  io_thread_ = start_thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& ex) {  // a user hook or a dependency threw: keep serving
        if (logs(log_level::error))
          log(log_level::error, "I/O handler threw", {{"what", ex.what()}});
      }
    }
  });
  // The callback thread holds a reference: the handle may be destroyed inside a callback, and
  // then this thread runs the engine's destructor. done() becomes ready only after that.
  cb_thread_ = start_thread([self = this->shared_from_this(), done = done_promise_]() mutable {
    self->callback_loop();
    self.reset();
    done->set_value();
  });
  cb_thread_id_ = cb_thread_.get_id();
}

// ---------------------------------------------------------------- user threads

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::send(const frame& f, std::chrono::milliseconds wait) {
  if (std::error_code refused = admission();
      refused == errc::connection_closed || (refused && wait.count() <= 0))
    return refused;  // before paying for an encode
  std::string wire;
  std::error_code ec;
  opts_.codec().encode(f, wire, ec);  // on the caller's thread, outside the lock
  if (ec) return ec;
  bool wake = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (wait.count() > 0 && admission_locked() == errc::send_buffer_full) {
      ++room_waiters_;
      room_cv_.wait_for(lock, wait,
                        [this] { return admission_locked() != errc::send_buffer_full; });
      --room_waiters_;
    }
    if (std::error_code refused = admission_locked()) return refused;
    queue_.push(std::move(wire));
    wake = state_ == client_state::connected && !pump_posted_;
    pump_posted_ = pump_posted_ || wake;
  }
  if (wake) asio::post(io_, [this] { pump(); });
  return {};
}

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::admission() const {
  std::lock_guard<std::mutex> lock(mu_);
  return admission_locked();
}

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::admission_locked() const {
  if (state_ == client_state::closing || state_ == client_state::closed)
    return errc::connection_closed;
  if (queue_.full()) return errc::send_buffer_full;
  return {};
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::close() {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!close_requested_) {
      close_requested_ = true;
      first = true;
      if (state_ != client_state::closed) state_ = client_state::closing;
    }
  }
  room_cv_.notify_all();  // senders waiting for room get connection_closed
  if (first) asio::post(io_, [this] { begin_close(); });
  // Inside a callback: waiting would deadlock; the callback thread finishes on its own.
  if (std::this_thread::get_id() != cb_thread_id_) join_threads();
}

// request/ack hook (issue 9 §2): one timer per call, on the I/O thread; what it runs goes to the
// callback thread like any event (post_event drops it after on_disconnect).
WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::call_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  asio::post(io_, [this, delay, fn = std::move(fn)]() mutable {
    if (finished_) return;
    auto timer = std::make_shared<asio::steady_timer>(io_, delay);
    timer->async_wait([this, timer, fn = std::move(fn)](const std::error_code& ec) mutable {
      if (!ec && !finished_) post_event({event::kind::call, {}, {}, 0, {}, std::move(fn)});
    });
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::join_threads() {
  std::lock_guard<std::mutex> lock(join_mu_);
  if (io_thread_.joinable()) io_thread_.join();
  if (cb_thread_.joinable()) cb_thread_.join();
}

// ---------------------------------------------------------------- I/O thread: dialing

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::begin_dial() {
  ++transport_;
  open_ = false;
  has_local_cause_ = false;
  local_cause_ = reason{};
  lib_close_code_ = 0;
  handed_ = 0;
  handed_bytes_ = 0;
  write_in_flight_ = false;
  reading_paused_ = false;

  tls_failure_->clear();
  std::error_code ec;
  con_ = endpoint_.get_connection(dial_text_, ec);
  if (ec || !con_) {  // a URL websocketpp cannot parse, or (wss://) no usable TLS context
    con_.reset();
    reason why(tls_failure_->empty() ? errc::invalid_url : errc::tls_handshake_failed);
    why.detail = tls_failure_->empty() ? ec.message() : *tls_failure_;
    return dial_failed(std::move(why));
  }
  const std::uint64_t id = transport_;
  con_->observe(this, id);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  if constexpr (secure) {
    const std::string host = con_->get_host();
    con_->set_sni_host(is_ip_literal(host) ? std::string() : host);
  }
#endif
  for (const auto& [name, value] : headers_) con_->append_header(name, value);
  if (opts_.proxy_settings()) con_->set_tunnel(opts_.proxy_settings());  // issue 9 §4 hook
  con_->set_max_message_size(opts_.max_message_size() == 0 ? no_limit_message_ceiling
                                                           : opts_.max_message_size());
  // After a close frame (either side's), the TCP close may take write_wait, then it is forced.
  con_->set_close_handshake_timeout(static_cast<long>(opts_.write_wait().count()));
  answer_latest_ping_only(*con_);
  // websocketpp never sets TCP_NODELAY: small frames would wait for the peer's delayed ACK.
  con_->set_tcp_pre_init_handler([this, id](websocketpp::connection_hdl hdl) {
    if (!is_current(id)) return retire(hdl);  // abandoned while its connect was completing
    std::error_code ignored;
    con_->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  });
  con_->set_open_handler([this, id](websocketpp::connection_hdl hdl) { on_open(id, hdl); });
  con_->set_fail_handler([this, id](websocketpp::connection_hdl) { on_fail(id); });
  con_->set_close_handler([this, id](websocketpp::connection_hdl) { on_close(id); });
  con_->set_message_handler(
      [this, id](websocketpp::connection_hdl, typename Endpoint::message_ptr msg) {
        on_message(id, std::move(msg->get_raw_payload()));
      });
  dial_timer_.expires_after(opts_.handshake_timeout());
  dial_timer_.async_wait([this, id](const std::error_code& timer_ec) {
    if (timer_ec || !is_current(id) || open_) return;
    abandon_connection();
    dial_failed(errc::handshake_timeout);
  });
  endpoint_.connect(con_);
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_open(std::uint64_t id, const websocketpp::connection_hdl& hdl) {
  // An abandoned dial whose completion was already queued: it must not stay open next to the
  // current transport (a hub would see a duplicate id and kick the live one).
  if (!is_current(id)) return retire(hdl);
  dial_timer_.cancel();
  open_ = true;
  if (opts_.min_uptime().count() == 0) {
    attempt_ = 0;
  } else {
    uptime_timer_.expires_after(opts_.min_uptime());
    uptime_timer_.async_wait([this, id](const std::error_code& ec) {
      if (!ec && is_current(id) && open_) attempt_ = 0;
    });
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != client_state::closing && state_ != client_state::closed)
      state_ = client_state::connected;
  }
  connected_.store(true, std::memory_order_release);
  start_heartbeat();
  if (logs(log_level::info))
    log(log_level::info, ever_opened_ ? "transport restored" : "connected", {{"url", log_url_}});
  if (!ever_opened_) {
    ever_opened_ = true;
    first_dial_.set_value(reason{});
  } else {
    post_event({event::kind::restore, {}, {}, id});
  }
  pump();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_fail(std::uint64_t id) {
  if (!is_current(id)) return;
  dial_timer_.cancel();
  reason why = failure_reason(con_);
  con_.reset();
  dial_failed(std::move(why));
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::failure_reason(const connection_ptr& con) {
  if (const auto& refused = con->tunnel_refusal()) return *refused;  // issue 9 §4 hook
  const int status = static_cast<int>(con->get_response_code());
  if (status != 0 && status != 101) {
    reason why(errc::handshake_rejected);
    why.http_status = status;
    return why;
  }
  reason why(errc::connection_lost);
  if constexpr (secure) {
    if (!tls_failure_->empty() ||
        con->get_ec() == websocketpp::transport::asio::socket::make_error_code(
                             websocketpp::transport::asio::socket::error::tls_handshake_failed)) {
      why.code = errc::tls_handshake_failed;
      why.detail = tls_failure_->empty() ? con->get_transport_ec().message() : *tls_failure_;
      return why;
    }
  }
  why.detail = transport_detail(con);
  return why;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::dial_failed(reason why) {
  if (!ever_opened_) {  // the first dial: no callback; the caller gets the reason
    first_dial_.set_value(why);
    return finish(std::move(why), event::kind::stop);
  }
  ++attempt_;
  if (logs(log_level::warn))
    log(log_level::warn, "reconnect attempt failed",
        {{"url", log_url_}, {"attempt", attempt_}, {"reason", why.message()}});
  const auto& stops = opts_.stop_http_statuses();
  if (why.http_status != 0 && std::find(stops.begin(), stops.end(), why.http_status) != stops.end())
    return finish(std::move(why));
  if (opts_.max_retries() != 0 && attempt_ >= opts_.max_retries()) {
    reason exhausted(errc::retries_exhausted);
    exhausted.http_status = why.http_status;
    exhausted.detail = "last attempt: " + why.message();
    return finish(std::move(exhausted));
  }
  schedule_redial();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::schedule_redial() {
  if constexpr (Backoff::enabled) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (state_ == client_state::connected || state_ == client_state::connecting)
        state_ = client_state::reconnecting;
    }
    const milliseconds delay =
        Backoff::delay(attempt_, opts_.base_delay(), opts_.max_delay(), rng_);
    if (logs(log_level::info))
      log(log_level::info, "reconnecting",
          {{"url", log_url_}, {"attempt", attempt_}, {"delay_ms", delay.count()}});
    backoff_timer_.expires_after(delay);
    backoff_timer_.async_wait([this](const std::error_code& ec) {
      if (ec || closing_ || finished_) return;
      // before_reconnect is a callback like the others: it runs on the callback thread, never
      // next to another one, and may close or destroy the client. The dial waits for it.
      if (opts_.reconnect_callback())
        return post_event({event::kind::redial, dial_text_, {}, 0, headers_});
      begin_dial();
    });
  } else {
    finish(errc::connection_lost);
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::redial(dial_url next, header_list headers, reason hook_failure) {
  if (closing_ || finished_) return;
  if (hook_failure) return dial_failed(std::move(hook_failure));
  dial_text_ = std::move(next.text);
  log_url_ = redact_url(dial_text_);
  headers_ = std::move(headers);
  begin_dial();
}

// ---------------------------------------------------------------- I/O thread: open transport

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::pump() {
  std::size_t queued = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pump_posted_ = false;
    queued = queue_.size();
  }
  if (!open_ || close_sent_) return handed_ == queued;
  constexpr auto opcode = Codec::wire == wire_type::binary ? websocketpp::frame::opcode::binary
                                                           : websocketpp::frame::opcode::text;
  // Slots below `queued` are only replaced after this thread pops them: safe to read unlocked.
  // websocketpp writes everything handed to it as one write, with one write_wait deadline: a
  // bounded hand-off keeps that write small enough to meet it (else a backlog on a slow link
  // would time out, reconnect, be re-sent whole, and time out again). The rest follows as
  // writes complete; one frame always goes, however large.
  for (; handed_ < queued; ++handed_) {
    if (handed_ > 0 && handed_bytes_ >= max_bytes_in_flight) break;
    const std::string& wire = queue_.at(handed_);
    if (con_->send(wire.data(), wire.size(), opcode)) break;
    handed_bytes_ += wire.size();
  }
  return handed_ == queued;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_write_start(std::uint64_t id, std::size_t, bool close_frame) {
  if (!is_current(id)) return;
  // A close frame written before any arrived, that this client did not ask for, is one
  // websocketpp started itself (1009 oversized, 1002/1007 protocol): never a server close.
  if (close_frame && !has_local_cause_ && lib_close_code_ == 0 &&
      con_->get_remote_close_code() == websocketpp::close::status::abnormal_close)
    lib_close_code_ = con_->get_local_close_code();
  if (!open_) return;
  write_in_flight_ = true;
  write_started_ = clock::now();
  if (!write_timer_armed_) arm_write_deadline(write_started_ + opts_.write_wait());
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_write_done(std::uint64_t id, std::size_t data_frames, bool ok) {
  if (!is_current(id)) return;
  write_in_flight_ = false;
  if (!ok || data_frames == 0) return;
  std::size_t written_bytes = 0;
  bool waiters = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < data_frames; ++i) written_bytes += queue_.at(i).size();
    queue_.pop(data_frames);  // written: only now do they leave the queue
    waiters = room_waiters_ > 0;
  }
  if (waiters) room_cv_.notify_all();
  handed_ -= data_frames;
  handed_bytes_ -= written_bytes;
  const bool flushed = pump();  // the next slice of the backlog
  if (closing_ && flushed) send_close_frame();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_bytes_read(std::uint64_t id) {
  if (id == transport_) last_read_ = clock::now();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_handler_threw(std::uint64_t id, const std::string& what) {
  if (!is_current(id)) return;
  if (logs(log_level::error))
    log(log_level::error, "transport handler threw", {{"url", log_url_}, {"what", what}});
  if (!has_local_cause_) {  // the root cause wins
    has_local_cause_ = true;
    local_cause_ = reason(errc::connection_lost);
    local_cause_.detail = "transport handler threw: " + what;
  }
  // Its handler's state is unknown: no close handshake, the fail or close handler runs now.
  con_->terminate(
      websocketpp::transport::error::make_error_code(websocketpp::transport::error::general));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::arm_write_deadline(clock::time_point at) {
  // One timer, re-armed lazily: a busy connection does not pay a timer update per write.
  write_timer_armed_ = true;
  write_timer_.expires_at(at);
  write_timer_.async_wait([this, id = transport_](const std::error_code& ec) {
    if (ec) return;
    write_timer_armed_ = false;
    if (!is_current(id) || !open_ || !write_in_flight_) return;
    const clock::time_point deadline = write_started_ + opts_.write_wait();
    if (clock::now() < deadline) return arm_write_deadline(deadline);
    if (logs(log_level::warn)) log(log_level::warn, "write timed out", {{"url", log_url_}});
    drop_transport(errc::write_timeout);
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::start_heartbeat() {
  last_read_ = clock::now();
  if constexpr (Heartbeat::enabled) {
    ping_later();
    live_timer_.expires_at(last_read_ + opts_.pong_wait());
    live_timer_.async_wait([this, id = transport_](const std::error_code& ec) {
      if (!ec && is_current(id)) check_liveness();
    });
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::ping_later() {
  ping_timer_.expires_after(opts_.ping_period());
  ping_timer_.async_wait([this, id = transport_](const std::error_code& ec) {
    if (ec || !is_current(id) || !open_) return;
    std::error_code ping_ec;
    con_->ping(std::string(), ping_ec);
    ping_later();
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::check_liveness() {
  const clock::time_point now = clock::now();
  if (reading_paused_) last_read_ = now;  // not reading on purpose: silence proves nothing
  const clock::time_point deadline = last_read_ + opts_.pong_wait();
  if (now >= deadline) {
    if (logs(log_level::warn)) log(log_level::warn, "heartbeat timed out", {{"url", log_url_}});
    return drop_transport(errc::heartbeat_timeout);
  }
  live_timer_.expires_at(deadline);
  live_timer_.async_wait([this, id = transport_](const std::error_code& ec) {
    if (!ec && is_current(id)) check_liveness();
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_message(std::uint64_t id, std::string&& data) {
  if (!is_current(id)) return;
  bool pause = false;
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    inbound_bytes_ += data.size();
    events_.push_back({event::kind::message, std::move(data), {}, id});
    ++inbound_waiting_;
    const bool full =
        inbound_waiting_ >= Bounds::inbound_frames || inbound_bytes_ >= inbound_bytes_bound;
    if (full && !reading_paused_) {
      pause = true;
      resume_wanted_ = true;
    }
  }
  ev_cv_.notify_one();
  if (pause) {  // the handler is behind: let TCP push back instead of buffering without bound
    reading_paused_ = true;
    con_->pause_reading();
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::resume_reading() {
  if (!reading_paused_ || !con_ || !open_) return;
  reading_paused_ = false;
  last_read_ = clock::now();
  con_->resume_reading();
}

// ---------------------------------------------------------------- I/O thread: ending

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::drop_transport(reason cause) {
  if (!con_ || !open_) return;
  if (!has_local_cause_) {  // the root cause wins over what it causes next
    has_local_cause_ = true;
    local_cause_ = std::move(cause);
  }
  force_shut();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::shut_socket(const connection_ptr& con) {
  // Aborts the pending read and any stalled write; websocketpp then terminates the connection
  // and calls its close (or fail) handler.
  std::error_code ignored;
  auto& socket = con->get_raw_socket();
  socket.cancel(ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::abandon_connection() {
  // Its handlers become stale (transport id), its observer is detached, its name lookup is
  // forgotten, and its socket is cancelled; a stage that completes anyway (a connect or an
  // upgrade already queued) meets retire().
  endpoint_.cancel_lookup();
  con_->observe(nullptr, 0);
  std::error_code ignored;
  con_->get_raw_socket().cancel(ignored);
  con_.reset();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::retire(const websocketpp::connection_hdl& hdl) {
  std::error_code ec;
  connection_ptr con = endpoint_.get_con_from_hdl(hdl, ec);
  if (!con) return;
  con->observe(nullptr, 0);
  shut_socket(con);
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::begin_close() {
  if (finished_) return;
  closing_ = true;
  backoff_timer_.cancel();
  if (!con_) return finish(reason{});  // waiting to redial
  if (!open_) {                        // a redial in flight
    dial_timer_.cancel();
    abandon_connection();
    return finish(reason{});
  }
  if (!has_local_cause_) {
    has_local_cause_ = true;
    local_cause_ = reason{};
  }
  // Every accepted frame goes out before the close frame, slice by slice as writes complete
  // (on_write_done); write_wait bounds the whole flush and the close handshake.
  close_timer_.expires_after(opts_.write_wait());
  close_timer_.async_wait([this, id = transport_](const std::error_code& timer_ec) {
    if (!timer_ec && is_current(id)) force_shut();
  });
  if (pump()) send_close_frame();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::send_close_frame() {
  if (close_sent_ || !con_ || !open_) return;
  close_sent_ = true;
  std::error_code ec;
  con_->close(websocketpp::close::status::normal, std::string(), ec);
  if (ec) force_shut();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_close(std::uint64_t id) {
  if (!is_current(id)) return;
  reason cause = close_reason(con_);
  open_ = false;
  connected_.store(false, std::memory_order_release);
  con_.reset();
  handed_ = 0;  // frames whose write did not complete are written again on the next transport
  handed_bytes_ = 0;
  stop_timers();
  const log_level level = cause ? log_level::warn : log_level::info;
  if (logs(level))
    log(level, "transport dropped", {{"url", log_url_}, {"reason", cause.message()}});
  reason after = cause;
  post_event({event::kind::drop, {}, std::move(cause), id});
  if (closing_) return finish(reason{});
  const bool stop = after.close_code != 0 && stops_on_close_code(after.close_code);
  if (opts_.reconnect_enabled() && !stop) return schedule_redial();
  if (!stop) after.code = errc::connection_lost;
  finish(std::move(after));
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::stops_on_close_code(std::uint16_t code) {
  const auto& pred = opts_.stop_close_code();
  if (!pred) return false;
  try {
    return pred(code);
  } catch (...) {  // a failing predicate says "no": the client goes on
    if (logs(log_level::error)) log(log_level::error, "stop_on_close_code threw", {});
    return false;
  }
}

WSPULSE_CORE_TEMPLATE
std::string WSPULSE_CORE::transport_detail(const connection_ptr& con) {
  // get_ec() holds the cause websocketpp acted on; the transport's own code is the better
  // text only when websocketpp passed it through (a later shutdown error may overwrite it).
  const std::error_code ec = con->get_ec();
  const bool pass_through = ec == websocketpp::transport::error::make_error_code(
                                      websocketpp::transport::error::pass_through);
  return ec && !pass_through ? ec.message() : con->get_transport_ec().message();
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::close_reason(const connection_ptr& con) {
  if (has_local_cause_) return local_cause_;
  if (lib_close_code_ == websocketpp::close::status::message_too_big) return errc::message_too_big;
  if (lib_close_code_ != 0) {  // a protocol error of the server, found by websocketpp
    reason why(errc::connection_lost);
    why.detail = "protocol error (closed with " + std::to_string(lib_close_code_) + ")";
    if (!con->get_local_close_reason().empty()) why.detail += ": " + con->get_local_close_reason();
    return why;
  }
  const auto remote = con->get_remote_close_code();
  if (remote == websocketpp::close::status::abnormal_close) {
    reason why(errc::connection_lost);
    why.detail = transport_detail(con);
    return why;
  }
  if (std::string bad = malformed_server_close(*con); !bad.empty()) {  // a server protocol error
    reason why(errc::connection_lost);
    why.detail = std::move(bad);
    return why;
  }
  reason why(errc::server_closed);
  why.close_code = remote;
  why.close_text = con->get_remote_close_reason();
  return why;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::finish(reason why, typename event::kind last) {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = client_state::closed;
  }
  room_cv_.notify_all();
  connected_.store(false, std::memory_order_release);
  stop_timers();
  backoff_timer_.cancel();
  dial_timer_.cancel();
  if (con_) abandon_connection();
  const char* what = last == event::kind::stop ? "dial failed" : "client closed";
  if (logs(log_level::info))
    log(log_level::info, what, {{"url", log_url_}, {"reason", why.message()}});
  post_event({last, {}, std::move(why), 0});
  io_.stop();  // nothing more runs here; what is still pending dies with io_
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::stop_timers() {
  ping_timer_.cancel();
  live_timer_.cancel();
  write_timer_.cancel();
  close_timer_.cancel();
  uptime_timer_.cancel();
  write_timer_armed_ = false;
  write_in_flight_ = false;
}

// ---------------------------------------------------------------- callback thread

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::post_event(event e) {
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    if (events_closed_) return;  // nothing after on_disconnect
    events_closed_ = e.what == event::kind::disconnect || e.what == event::kind::stop;
    events_.push_back(std::move(e));
  }
  ev_cv_.notify_one();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::callback_loop() {
  std::deque<event> batch;  // taken under one lock: one wake-up serves every waiting event
  frame scratch;            // reused by deliver(): decoding keeps the strings' capacity
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(ev_mu_);
      ev_cv_.wait(lock, [this] { return !events_.empty(); });
      batch.swap(events_);
    }
    std::size_t delivered = 0;
    std::size_t delivered_bytes = 0;
    for (event& e : batch) {
      switch (e.what) {
        case event::kind::message:
          deliver(e, scratch);
          ++delivered;
          delivered_bytes += e.data.size();
          break;
        case event::kind::drop: invoke("on_transport_drop", opts_.drop_callback(), e.why); break;
        case event::kind::restore: invoke("on_transport_restore", opts_.restore_callback()); break;
        case event::kind::redial: run_reconnect_hook(e); break;
        case event::kind::call: invoke("request timer", e.call); break;  // issue 9 §2 hook
        case event::kind::disconnect:
          invoke("on_disconnect", opts_.disconnect_callback(), e.why);
          return;
        case event::kind::stop: return;
      }
    }
    batch.clear();
    bool resume = false;
    {
      std::lock_guard<std::mutex> lock(ev_mu_);
      inbound_waiting_ -= delivered;
      inbound_bytes_ -= delivered_bytes;
      resume = resume_wanted_ && inbound_waiting_ <= Bounds::inbound_frames / 2 &&
               inbound_bytes_ <= inbound_bytes_bound / 2;
      resume_wanted_ = resume_wanted_ && !resume;
    }
    if (resume) asio::post(io_, [this] { resume_reading(); });
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::run_reconnect_hook(event& e) {
  std::string url = std::move(e.data);
  header_list headers = std::move(e.headers);
  reason failure;
  try {
    opts_.reconnect_callback()(url, headers);
    for (const auto& [name, value] : headers) validate_header(name, value);
  } catch (const std::exception& ex) {  // a failed attempt, like a refused dial
    failure = reason(errc::callback_failed);
    failure.detail = std::string("before_reconnect: ") + ex.what();
  } catch (...) {
    failure = reason(errc::callback_failed);
    failure.detail = "before_reconnect: unknown exception";
  }
  dial_url next;
  if (!failure && (normalize_url(url, next) || next.secure != url_.secure)) {
    failure = reason(errc::invalid_url);
    failure.detail = "before_reconnect set an invalid URL or changed ws:// vs wss://";
  }
  if (failure && logs(log_level::error))
    log(log_level::error, "before_reconnect failed",
        {{"url", cb_log_url_}, {"reason", failure.message()}});
  if (!failure) cb_log_url_ = redact_url(next.text);
  asio::post(io_, [this, next = std::move(next), headers = std::move(headers),
                   failure = std::move(failure)]() mutable {
    redial(std::move(next), std::move(headers), std::move(failure));
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::deliver(const event& e, frame& f) {
  std::error_code ec;
  try {
    opts_.codec().decode(e.data, f, ec);
  } catch (const std::exception& ex) {  // a throwing codec loses that message, like bad JSON
    if (logs(log_level::warn))
      log(log_level::warn, "codec threw: dropping message",
          {{"url", cb_log_url_}, {"what", ex.what()}, {"bytes", e.data.size()}});
    return;
  } catch (...) {
    if (logs(log_level::warn))
      log(log_level::warn, "codec threw: dropping message",
          {{"url", cb_log_url_}, {"what", "unknown exception"}, {"bytes", e.data.size()}});
    return;
  }
  if (ec) {
    if (logs(log_level::warn))
      log(log_level::warn, "dropping undecodable message",
          {{"url", cb_log_url_}, {"error", ec.message()}, {"bytes", e.data.size()}});
    return;
  }
  const auto& fn = opts_.message_callback();
  if (!fn) return;
  try {
    fn(f);
    return;
  } catch (const std::exception& ex) {
    if (logs(log_level::error))
      log(log_level::error, "on_message threw", {{"url", cb_log_url_}, {"what", ex.what()}});
  } catch (...) {
    if (logs(log_level::error))
      log(log_level::error, "on_message threw",
          {{"url", cb_log_url_}, {"what", "unknown exception"}});
  }
  // Like the Go client's panic recovery: the transport is dropped, the process survives.
  asio::post(io_, [this, id = e.transport] {
    if (is_current(id)) drop_transport(errc::callback_failed);
  });
}

WSPULSE_CORE_TEMPLATE
template <class Fn, class... Args>
void WSPULSE_CORE::invoke(const char* which, const Fn& fn, const Args&... args) {
  if (!fn) return;
  try {
    fn(args...);
  } catch (const std::exception& ex) {
    if (logs(log_level::error))
      log(log_level::error, "callback threw", {{"callback", which}, {"what", ex.what()}});
  } catch (...) {
    if (logs(log_level::error))
      log(log_level::error, "callback threw", {{"callback", which}, {"what", "unknown exception"}});
  }
}

#undef WSPULSE_CORE
#undef WSPULSE_CORE_TEMPLATE

}  // namespace detail
}  // namespace wspulse
