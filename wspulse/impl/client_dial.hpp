// wspulse_client — detail::client_core on the I/O thread: dialing, and the reconnect loop
// (backoff, attempts, stop rules, before_reconnect).
// SPDX-License-Identifier: MIT
#pragma once

namespace wspulse {
namespace detail {

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::begin_dial() {
  if (closing_ || finished_) return;
  tx_ = transport_state{};
  tx_.id = ++transports_;
  if constexpr (metered) tx_.dial_started = clock::now();
  tls_failure_->clear();
  std::error_code ec;
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  if constexpr (secure) {
    // The shared endpoint asks for a TLS context inside get_connection() only: set for this
    // dial, cleared after it (no other client runs in between: one I/O thread).
    endpoint().set_tls_init_handler([this](websocketpp::connection_hdl) {
      // Empty (the dial fails with *tls_failure_ as its reason) when a file cannot be used.
      return make_tls_context(websocketpp::uri(dial_text_).get_host(), opts_, tls_failure_);
    });
  }
#endif
  tx_.con = endpoint().get_connection(dial_text_, ec);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  if constexpr (secure) endpoint().set_tls_init_handler(nullptr);
#endif
  if (ec || !tx_.con) {  // a URL websocketpp cannot parse, or (wss://) no usable TLS context
    tx_.con.reset();
    reason why(tls_failure_->empty() ? errc::invalid_url : errc::tls_handshake_failed);
    why.detail = tls_failure_->empty() ? ec.message() : *tls_failure_;
    return dial_failed(std::move(why));
  }
  const std::uint64_t id = tx_.id;
  auto& con = *tx_.con;
  con.observe(this, id);
  con.set_lookup(&lookup_);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  if constexpr (secure) {
    const std::string host = con.get_host();
    con.set_sni_host(is_ip_literal(host) ? std::string() : host);
  }
#endif
  for (const auto& [name, value] : headers_) con.append_header(name, value);
  if (opts_.proxy_settings()) con.set_tunnel(opts_.proxy_settings());  // issue 9 §4
  con.set_max_message_size(opts_.max_message_size() == 0 ? no_limit_message_ceiling
                                                         : opts_.max_message_size());
  // After a close frame (either side's), the TCP close may take write_wait, then it is forced.
  con.set_close_handshake_timeout(static_cast<long>(opts_.write_wait().count()));
  answer_latest_ping_only(con);
  if constexpr (metered && Heartbeat::enabled) {
    con.set_pong_handler(
        weak_handler([id](client_core& self, websocketpp::connection_hdl, std::string) {
          if (!self.is_current(id) || self.tx_.ping_sent == clock::time_point{}) return;
          const auto round_trip = micros(clock::now() - self.tx_.ping_sent);
          self.tx_.ping_sent = {};
          self.metric([&](auto& m) { m.pong_received(round_trip); });
        }));
  }
  // websocketpp never sets TCP_NODELAY: small frames would wait for the peer's delayed ACK.
  con.set_tcp_pre_init_handler(
      weak_handler([id](client_core& self, websocketpp::connection_hdl hdl) {
        if (!self.is_current(id)) return self.retire(hdl);  // abandoned while its connect completed
        std::error_code ignored;
        self.tx_.con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
      }));
  con.set_open_handler(weak_handler(
      [id](client_core& self, websocketpp::connection_hdl hdl) { self.on_open(id, hdl); }));
  con.set_fail_handler(
      weak_handler([id](client_core& self, websocketpp::connection_hdl) { self.on_fail(id); }));
  con.set_close_handler(
      weak_handler([id](client_core& self, websocketpp::connection_hdl) { self.on_close(id); }));
  con.set_message_handler(weak_handler(
      [id](client_core& self, websocketpp::connection_hdl, typename Endpoint::message_ptr msg) {
        self.on_message(id, std::move(msg->get_raw_payload()));
      }));
  dial_timer_.expires_after(opts_.handshake_timeout());
  dial_timer_.async_wait(weak_handler([id](client_core& self, const std::error_code& timer_ec) {
    if (timer_ec || !self.is_current(id) || self.tx_.open) return;
    self.abandon_connection();
    self.dial_failed(errc::handshake_timeout);
  }));
  endpoint().connect(tx_.con);
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_open(std::uint64_t id, const websocketpp::connection_hdl& hdl) {
  // An abandoned dial whose completion was already queued: it must not stay open next to the
  // current transport (a hub would see a duplicate id and kick the live one).
  if (!is_current(id)) return retire(hdl);
  dial_timer_.cancel();
  tx_.open = true;
  if constexpr (metered) {
    tx_.opened_at = clock::now();
    metric([&](auto& m) { m.connection_opened(micros(tx_.opened_at - tx_.dial_started)); });
  }
  if (opts_.min_uptime().count() == 0) {
    attempt_ = 0;
  } else {
    uptime_timer_.expires_after(opts_.min_uptime());
    uptime_timer_.async_wait(weak_handler([id](client_core& self, const std::error_code& ec) {
      if (!ec && self.is_current(id) && self.tx_.open) self.attempt_ = 0;
    }));
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
    post_event({event::kind::dialed, {}, {}, id});
  } else {
    post_event({event::kind::restore, {}, {}, id});
  }
  if (is_current(id)) pump();  // inline callbacks may have closed it meanwhile
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::on_fail(std::uint64_t id) {
  if (!is_current(id)) return;
  dial_timer_.cancel();
  reason why = failure_reason(tx_.con);
  tx_.con->observe(nullptr, 0);
  tx_.con.reset();
  dial_failed(std::move(why));
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::failure_reason(const connection_ptr& con) {
  if (const auto& refused = con->tunnel_refusal()) return *refused;  // issue 9 §4
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
  if (!ever_opened_) return finish(std::move(why), event::kind::stop);  // the dial's outcome
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
    metric([&](auto& m) { m.reconnect_attempt(attempt_ + 1, delay); });
    if (logs(log_level::info))
      log(log_level::info, "reconnecting",
          {{"url", log_url_}, {"attempt", attempt_}, {"delay_ms", delay.count()}});
    dial_timer_.expires_after(delay);
    dial_timer_.async_wait(weak_handler([](client_core& self, const std::error_code& ec) {
      if (ec || self.closing_ || self.finished_) return;
      // before_reconnect is a callback like the others: it runs on the callback side, never
      // next to another one, and may close or destroy the client. The dial waits for it.
      if (self.opts_.reconnect_callback())
        return self.post_event({event::kind::redial, self.dial_text_, {}, 0, self.headers_});
      self.begin_dial();
    }));
  } else {
    finish(errc::connection_lost);
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::redial(dial_url next, header_list headers, reason hook_failure) {
  if (closing_ || finished_) return;
  if (hook_failure) return dial_failed(std::move(hook_failure));
  dial_text_ = std::move(next.text);
  if constexpr (Logger::enabled) log_url_ = redact_url(dial_text_);
  headers_ = std::move(headers);
  begin_dial();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::abandon_connection() {
  // Its handlers become stale (transport id), its observer is detached, its name lookup is
  // forgotten, and its socket is cancelled; a stage that completes anyway (a connect or an
  // upgrade already queued) meets retire().
  lookup_.cancel();
  tx_.con->observe(nullptr, 0);
  std::error_code ignored;
  tx_.con->get_raw_socket().cancel(ignored);
  tx_.con.reset();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::retire(const websocketpp::connection_hdl& hdl) {
  std::error_code ec;
  connection_ptr con = endpoint().get_con_from_hdl(hdl, ec);
  if (!con) return;
  con->observe(nullptr, 0);
  shut_socket(con);
}

}  // namespace detail
}  // namespace wspulse
