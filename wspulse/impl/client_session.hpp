// wspulse_client — detail::client_core on the I/O thread: one open transport (writes and their
// deadlines, heartbeat and liveness, inbound messages, why it ended) and the client's end.
// SPDX-License-Identifier: MIT
#pragma once

namespace wspulse {
namespace detail {

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::pump() {
  std::size_t queued = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pump_posted_ = false;
    queued = queue_.size();
  }
  if (!tx_.open || tx_.close_sent) return tx_.handed == queued;
  constexpr auto opcode = Codec::wire == wire_type::binary ? websocketpp::frame::opcode::binary
                                                           : websocketpp::frame::opcode::text;
  // Slots below `queued` are only replaced after this thread pops them: safe to read unlocked.
  // websocketpp writes everything handed to it as one write, with one write_wait deadline: a
  // bounded hand-off keeps that write small enough to meet it (else a backlog on a slow link
  // would time out, reconnect, be re-sent whole, and time out again). The rest follows as
  // writes complete; one frame always goes, however large.
  for (; tx_.handed < queued; ++tx_.handed) {
    if (tx_.handed > 0 && tx_.handed_bytes >= max_bytes_in_flight) break;
    const std::string& wire = queue_.at(tx_.handed);
    // A fresh masking key per write of the frame: a frame written again after a reconnect
    // is masked anew.
    if (tx_.con->send(prepared_frame<typename Endpoint::message_ptr::element_type>(
            opcode, wire, shared_.keys()())))
      break;
    tx_.handed_bytes += wire.size();
  }
  return tx_.handed == queued;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_write_start(std::uint64_t id, std::size_t, bool close_frame) {
  if (!is_current(id)) return;
  // A close frame written before any arrived, that this client did not ask for, is one
  // websocketpp started itself (1009 oversized, 1002/1007 protocol): never a server close.
  if (close_frame && !tx_.has_local_cause && tx_.lib_close_code == 0 &&
      tx_.con->get_remote_close_code() == websocketpp::close::status::abnormal_close)
    tx_.lib_close_code = tx_.con->get_local_close_code();
  if (!tx_.open) return;
  tx_.write_in_flight = true;
  tx_.write_started = clock::now();
  if (!tx_.write_timer_armed) arm_write_deadline(tx_.write_started + opts_.write_wait());
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_write_done(std::uint64_t id, std::size_t data_frames, bool ok) {
  if (!is_current(id)) return;
  tx_.write_in_flight = false;
  if (!ok || data_frames == 0) return;
  // Handed slots are replaced only after this thread pops them: read unlocked, like pump().
  std::size_t written_bytes = 0;
  for (std::size_t i = 0; i < data_frames; ++i) {
    const std::size_t bytes = queue_.at(i).size();
    written_bytes += bytes;
    metric([&](auto& m) { m.message_sent(bytes); });
  }
  bool waiters = false;
  std::size_t depth = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.pop(data_frames);  // written: only now do they leave the queue
    depth = queue_.size();
    queued_.store(depth, std::memory_order_release);
    waiters = room_waiters_ > 0;
  }
  if (waiters) room_cv_.notify_all();
  metric([&](auto& m) { m.send_queue_depth(depth, Bounds::send_frames); });
  tx_.handed -= data_frames;
  tx_.handed_bytes -= written_bytes;
  const bool flushed = pump();  // the next slice of the backlog
  if (closing_ && flushed) send_close_frame();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_bytes_read(std::uint64_t id) {
  if (id == tx_.id) tx_.last_read = clock::now();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_read_processed(std::uint64_t) {
  if constexpr (!inline_callbacks) events_.flush();  // one wake-up for the read's messages
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_handler_threw(std::uint64_t id, const std::string& what) {
  if (!is_current(id)) return;
  if (logs(log_level::error))
    log(log_level::error, "websocketpp handler threw", {{"url", log_url_}, {"what", what}});
  if (!tx_.has_local_cause) {
    tx_.has_local_cause = true;
    tx_.local_cause = reason(errc::connection_lost);
    tx_.local_cause.detail = "transport handler threw: " + what;
  }
  // Its handler's state is unknown: no close handshake, the fail or close handler runs now.
  tx_.con->terminate(
      websocketpp::transport::error::make_error_code(websocketpp::transport::error::general));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::arm_write_deadline(clock::time_point at) {
  // One timer, re-armed lazily: a busy connection does not pay a timer update per write.
  tx_.write_timer_armed = true;
  write_timer_.expires_at(at);
  write_timer_.async_wait(weak_handler([id = tx_.id](client_core& self, const std::error_code& ec) {
    if (ec || !self.is_current(id)) return;
    self.tx_.write_timer_armed = false;
    if (!self.tx_.open || !self.tx_.write_in_flight) return;
    const clock::time_point deadline = self.tx_.write_started + self.opts_.write_wait();
    if (clock::now() < deadline) return self.arm_write_deadline(deadline);
    if (self.logs(log_level::warn))
      self.log(log_level::warn, "write timed out", {{"url", self.log_url_}});
    self.drop_transport(errc::write_timeout);
  }));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::start_heartbeat() {
  tx_.last_read = clock::now();
  if constexpr (Heartbeat::enabled) {
    ping_later();
    live_timer_.expires_at(tx_.last_read + opts_.pong_wait());
    live_timer_.async_wait(
        weak_handler([id = tx_.id](client_core& self, const std::error_code& ec) {
          if (!ec && self.is_current(id)) self.check_liveness();
        }));
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::ping_later() {
  ping_timer_.expires_after(opts_.ping_period());
  ping_timer_.async_wait(weak_handler([id = tx_.id](client_core& self, const std::error_code& ec) {
    if (ec || !self.is_current(id) || !self.tx_.open) return;
    std::error_code ping_ec;
    self.tx_.con->ping(std::string(), ping_ec);
    // A round trip is timed from the oldest ping still unanswered.
    if constexpr (metered) {
      if (!ping_ec && self.tx_.ping_sent == clock::time_point{}) self.tx_.ping_sent = clock::now();
    }
    self.ping_later();
  }));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::check_liveness() {
  const clock::time_point now = clock::now();
  if (tx_.reading_paused) tx_.last_read = now;  // not reading on purpose: silence proves nothing
  const clock::time_point deadline = tx_.last_read + opts_.pong_wait();
  if (now >= deadline) {
    if (logs(log_level::warn)) log(log_level::warn, "heartbeat timed out", {{"url", log_url_}});
    metric([](auto& m) { m.heartbeat_failed(); });
    return drop_transport(errc::heartbeat_timeout);
  }
  live_timer_.expires_at(deadline);
  live_timer_.async_wait(weak_handler([id = tx_.id](client_core& self, const std::error_code& ec) {
    if (!ec && self.is_current(id)) self.check_liveness();
  }));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_message(std::uint64_t id, std::string&& data) {
  if (!is_current(id)) return;
  metric([&](auto& m) { m.message_received(data.size()); });
  if constexpr (inline_callbacks) {
    thread_local frame scratch;  // decoding reuses its strings' capacity
    deliver(data, id, scratch);
  } else if (events_.push_message(std::move(data), id, tx_.reading_paused)) {
    // The handler is behind: let TCP push back instead of buffering without bound.
    tx_.reading_paused = true;
    tx_.con->pause_reading();
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::resume_reading() {
  if (!tx_.reading_paused || !tx_.con || !tx_.open) return;
  tx_.reading_paused = false;
  tx_.last_read = clock::now();
  tx_.con->resume_reading();
}

// ---------------------------------------------------------------- ending

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::drop_transport(reason cause) {
  if (!tx_.con || !tx_.open) return;
  if (!tx_.has_local_cause) {  // the root cause wins over what it causes next
    tx_.has_local_cause = true;
    tx_.local_cause = std::move(cause);
  }
  shut_socket(tx_.con);
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
void WSPULSE_CORE::begin_close() {
  if (finished_) return;
  closing_ = true;
  dial_timer_.cancel();                   // the backoff delay, or the dial's deadline
  if (!tx_.con) return finish(reason{});  // waiting to redial
  if (!tx_.open) {                        // a dial in flight
    abandon_connection();
    return finish(reason{});
  }
  if (!tx_.has_local_cause) {
    tx_.has_local_cause = true;
    tx_.local_cause = reason{};
  }
  // Every accepted frame goes out before the close frame, slice by slice as writes complete
  // (on_write_done); write_wait bounds the whole flush and the close handshake.
  close_timer_.expires_after(opts_.write_wait());
  close_timer_.async_wait(weak_handler([id = tx_.id](client_core& self, const std::error_code& ec) {
    if (!ec && self.is_current(id)) shut_socket(self.tx_.con);
  }));
  if (pump()) send_close_frame();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::send_close_frame() {
  if (tx_.close_sent || !tx_.con || !tx_.open) return;
  tx_.close_sent = true;
  std::error_code ec;
  tx_.con->close(websocketpp::close::status::normal, std::string(), ec);
  if (ec) shut_socket(tx_.con);
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_close(std::uint64_t id) {
  if (!is_current(id)) return;
  reason cause = close_reason(tx_.con);
  tx_.con->observe(nullptr, 0);
  if constexpr (metered) {
    const auto open_for = micros(clock::now() - tx_.opened_at);
    metric([&](auto& m) {
      if (cause.code == errc::message_too_big) m.message_dropped(drop_cause::too_big);
      m.connection_closed(open_for, cause);
    });
  }
  // Frames whose write did not complete stay queued: the next transport writes them again.
  tx_ = transport_state{};
  connected_.store(false, std::memory_order_release);
  stop_timers();
  // The end of the close the application asked for is no drop: "client closed" follows.
  const bool asked = closing_ && !cause;
  const log_level level = cause ? log_level::warn : asked ? log_level::debug : log_level::info;
  if (logs(level)) {
    log(level, asked ? "transport closed" : "transport dropped",
        {{"url", log_url_}, {"reason", cause.message()}});
  }
  reason after = cause;
  post_event({event::kind::drop, {}, std::move(cause), id});
  if (closing_) return finish(reason{});
  const bool stop = after.close_code != 0 && stops_on_close_code(after.close_code);
  if (opts_.reconnect_enabled() && !stop) return schedule_redial();
  if (!stop) after.code = errc::connection_lost;
  finish(std::move(after));
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
  if (tx_.has_local_cause) return tx_.local_cause;
  if (tx_.lib_close_code == websocketpp::close::status::message_too_big)
    return errc::message_too_big;
  if (tx_.lib_close_code != 0) {  // a protocol error of the server, found by websocketpp
    reason why(errc::connection_lost);
    why.detail = "protocol error (closed with " + std::to_string(tx_.lib_close_code) + ")";
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
void WSPULSE_CORE::finish(reason why, event::kind last) {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = client_state::closed;
    accepting_.store(false, std::memory_order_release);
  }
  room_cv_.notify_all();
  connected_.store(false, std::memory_order_release);
  stop_timers();
  dial_timer_.cancel();
  if (tx_.con) abandon_connection();
  const char* what = last == event::kind::stop ? "dial failed" : "client closed";
  if (logs(log_level::info))
    log(log_level::info, what, {{"url", log_url_}, {"reason", why.message()}});
  post_event({last, {}, std::move(why), 0});
  release_io_holder();  // nothing more runs here
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::stop_timers() {
  ping_timer_.cancel();
  live_timer_.cancel();
  write_timer_.cancel();
  close_timer_.cancel();
  uptime_timer_.cancel();
  tx_.write_timer_armed = false;
  tx_.write_in_flight = false;
}

}  // namespace detail
}  // namespace wspulse
