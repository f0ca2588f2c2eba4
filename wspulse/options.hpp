// wspulse_client — run-time options of a client: callbacks and values within the policies.
// Setters validate at once and throw std::invalid_argument("wspulse: …").
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "frame.hpp"
#include "metrics.hpp"
#include "policies.hpp"
#include "detail/proxy_url.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspulse {

using header_list = std::vector<std::pair<std::string, std::string>>;

namespace detail {
[[noreturn]] inline void invalid_option(const char* rule) {
  throw std::invalid_argument(std::string("wspulse: ") + rule);
}

inline bool is_header_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Refuses header injection: names are RFC 7230 tokens, values hold no CR, LF or NUL.
inline void validate_header(std::string_view name, std::string_view value) {
  if (name.empty()) invalid_option("dial header names must not be empty");
  for (char c : name)
    if (!is_header_token_char(c)) invalid_option("dial header names must be HTTP tokens");
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      invalid_option("dial header values must not contain CR, LF or NUL");
}
}  // namespace detail

/// Options of a basic_client<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics>.
/// Chainable setters; each validates at once against behaviour.md § Limits.
template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds,
          class Metrics = null_metrics>
class basic_options {
 public:
  using message_handler = std::function<void(const frame&)>;
  using reason_handler = std::function<void(const reason&)>;
  using restore_handler = std::function<void()>;
  using close_code_predicate = std::function<bool(std::uint16_t code)>;
  using reconnect_hook = std::function<void(std::string& url, header_list& headers)>;
  using answer_key_extractor = std::function<std::string(const frame&)>;

  basic_options& on_message(message_handler fn) {
    on_message_ = std::move(fn);
    return *this;
  }
  basic_options& on_transport_drop(reason_handler fn) {
    on_drop_ = std::move(fn);
    return *this;
  }
  basic_options& on_transport_restore(restore_handler fn) {
    on_restore_ = std::move(fn);
    return *this;
  }
  basic_options& on_disconnect(reason_handler fn) {
    on_disconnect_ = std::move(fn);
    return *this;
  }

  /// Reconnect after a drop with the Backoff policy's values.
  basic_options& auto_reconnect() {
    static_assert(Backoff::enabled,
                  "wspulse: auto_reconnect() needs a reconnecting Backoff policy; this client "
                  "type uses no_reconnect");
    reconnect_ = true;
    return *this;
  }
  /// Reconnect after a drop. max_retries in [0, 32] (0 = unlimited) dials per outage;
  /// base_delay in (0, 1 min]; max_delay in [base_delay, 5 min].
  basic_options& auto_reconnect(unsigned max_retries, milliseconds base_delay,
                                milliseconds max_delay) {
    static_assert(Backoff::enabled,
                  "wspulse: auto_reconnect() needs a reconnecting Backoff policy; this client "
                  "type uses no_reconnect");
    if (max_retries > limits::max_retries) detail::invalid_option("max_retries must be in [0, 32]");
    if (base_delay.count() <= 0 || base_delay.count() > limits::max_base_delay_ms)
      detail::invalid_option("base_delay must be in (0, 1 min]");
    if (max_delay < base_delay || max_delay.count() > limits::max_max_delay_ms)
      detail::invalid_option("max_delay must be in [base_delay, 5 min]");
    reconnect_ = true;
    max_retries_ = max_retries;
    base_delay_ = base_delay;
    max_delay_ = max_delay;
    return *this;
  }

  /// ping_period in (0, 1 min] and < pong_wait; pong_wait <= 2 min; write_wait in (0, 30 s].
  basic_options& heartbeat(milliseconds ping_period, milliseconds pong_wait,
                           milliseconds write_wait) {
    if (ping_period.count() <= 0 || ping_period.count() > limits::max_ping_ms)
      detail::invalid_option("ping_period must be in (0, 1 min]");
    if (pong_wait <= ping_period || pong_wait.count() > limits::max_pong_ms)
      detail::invalid_option("pong_wait must be in (ping_period, 2 min]");
    if (write_wait.count() <= 0 || write_wait.count() > limits::max_write_ms)
      detail::invalid_option("write_wait must be in (0, 30 s]");
    ping_period_ = ping_period;
    pong_wait_ = pong_wait;
    write_wait_ = write_wait;
    return *this;
  }

  /// Largest inbound message in bytes, [0, 64 MiB]; 0 = no limit.
  basic_options& max_message_size(std::size_t bytes) {
    if (bytes > limits::max_message_bytes)
      detail::invalid_option("max_message_size must be in [0, 64 MiB] (0 = no limit)");
    max_message_size_ = bytes;
    return *this;
  }

  /// Bound on dial (TCP connect + upgrade), (0, 5 min].
  basic_options& handshake_timeout(milliseconds d) {
    if (d.count() <= 0 || d.count() > limits::max_max_delay_ms)
      detail::invalid_option("handshake_timeout must be in (0, 5 min]");
    handshake_timeout_ = d;
    return *this;
  }

  /// Extra headers of the upgrade request (auth tokens, …). Names must be HTTP tokens.
  basic_options& dial_headers(header_list headers) {
    for (const auto& [name, value] : headers) detail::validate_header(name, value);
    dial_headers_ = std::move(headers);
    return *this;
  }
  basic_options& dial_headers(std::initializer_list<std::pair<std::string, std::string>> headers) {
    return dial_headers(header_list(headers));
  }

  basic_options& codec(Codec c) {
    codec_ = std::move(c);
    return *this;
  }
  basic_options& logger(Logger l) {
    logger_ = std::move(l);
    return *this;
  }
  /// The collector the client reports to (metrics.hpp): copied into the client, so a copy
  /// must share its counters with `m` (counting_metrics does).
  basic_options& metrics(Metrics m) {
    metrics_ = std::move(m);
    return *this;
  }

  /// Beyond the Go client: stop reconnecting when a redial is refused with one of these statuses.
  basic_options& stop_on_http_status(std::vector<int> statuses) {
    stop_statuses_ = std::move(statuses);
    return *this;
  }
  /// Beyond the Go client: stop reconnecting when the server's close code satisfies `pred`.
  basic_options& stop_on_close_code(close_code_predicate pred) {
    stop_close_ = std::move(pred);
    return *this;
  }
  /// Beyond the Go client: called on the I/O thread before every reconnect attempt, so the
  /// application can refresh a token in the URL or the headers.
  basic_options& before_reconnect(reconnect_hook fn) {
    before_reconnect_ = std::move(fn);
    return *this;
  }

  /// Beyond the Go client: a redial's success resets the attempt counter only once the new
  /// transport has stayed up this long, [0, 5 min] (0 = at once, the wspulse rule). A server
  /// that accepts and drops at once then backs off like one that refuses.
  basic_options& min_uptime(milliseconds d) {
    if (d.count() < 0 || d.count() > limits::max_max_delay_ms)
      detail::invalid_option("min_uptime must be in [0, 5 min]");
    min_uptime_ = d;
    return *this;
  }

  /// CA bundle for wss:// (PEM). Default: the system's CAs.
  basic_options& tls_ca_file(std::string path) {
    tls_ca_file_ = std::move(path);
    return *this;
  }
  /// Verify the server's certificate chain and host name (default true). Off only in
  /// development: the client then logs a warning (once per client, at dial).
  basic_options& tls_verify(bool on) {
    tls_verify_ = on;
    return *this;
  }
  /// Client certificate for servers that require one (mutual TLS): a PEM certificate (or chain,
  /// leaf first) and its PEM private key (unencrypted). Read at each dial; a file that cannot
  /// be used, or a key that does not match the certificate, fails the dial with
  /// errc::tls_handshake_failed and a reason naming the file.
  /// @throws std::invalid_argument when either path is empty
  basic_options& tls_client_cert(std::string cert_file, std::string key_file) {
    if (cert_file.empty() || key_file.empty())
      detail::invalid_option("tls_client_cert needs a certificate file and a key file");
    tls_client_cert_file_ = std::move(cert_file);
    tls_client_key_file_ = std::move(key_file);
    return *this;
  }

  /// How request_keyed() recognises an answer: `fn` returns the correlation key an inbound
  /// frame answers, or an empty string when the frame is no answer (an echo of a request, a
  /// broadcast, …). Called on the callback thread, for every inbound frame while a keyed
  /// request is pending. The hub drops `id`: its applications answer with the key inside the
  /// payload. An exception from `fn` counts as an exception from on_message.
  basic_options& answer_key(answer_key_extractor fn) {
    answer_key_ = std::move(fn);
    return *this;
  }

  /// Dials through an HTTP CONNECT proxy, `http://host[:port]` (port 80 by default), for ws://
  /// and wss:// alike (TLS runs end to end inside the tunnel). A refusal is
  /// errc::handshake_rejected with the proxy's http_status and a detail naming the proxy.
  /// @throws std::invalid_argument for another scheme, a missing host, a bad port, a path,
  /// or credentials in the URL (pass them to proxy(url, user, password))
  basic_options& proxy(std::string_view url) {
    proxy_ = detail::parse_proxy_url(url);
    return *this;
  }
  /// As proxy(url), authenticating with Basic credentials (Proxy-Authorization). The
  /// credentials are never logged.
  /// @throws std::invalid_argument as proxy(url); also when user is empty or holds ':', or
  /// either holds CR, LF or NUL
  basic_options& proxy(std::string_view url, std::string_view user, std::string_view password) {
    detail::proxy_settings proxy = detail::parse_proxy_url(url);
    detail::set_proxy_credentials(proxy, user, password);  // throws before anything is set
    proxy_ = std::move(proxy);
    return *this;
  }

  // Read access for the client (and for users who build options in one place).
  const message_handler& message_callback() const noexcept { return on_message_; }
  const reason_handler& drop_callback() const noexcept { return on_drop_; }
  const restore_handler& restore_callback() const noexcept { return on_restore_; }
  const reason_handler& disconnect_callback() const noexcept { return on_disconnect_; }
  bool reconnect_enabled() const noexcept { return Backoff::enabled && reconnect_; }
  unsigned max_retries() const noexcept { return max_retries_; }
  milliseconds base_delay() const noexcept { return base_delay_; }
  milliseconds max_delay() const noexcept { return max_delay_; }
  milliseconds ping_period() const noexcept { return ping_period_; }
  milliseconds pong_wait() const noexcept { return pong_wait_; }
  milliseconds write_wait() const noexcept { return write_wait_; }
  std::size_t max_message_size() const noexcept { return max_message_size_; }
  milliseconds handshake_timeout() const noexcept { return handshake_timeout_; }
  const header_list& dial_headers() const noexcept { return dial_headers_; }
  const Codec& codec() const noexcept { return codec_; }
  Logger& logger() noexcept { return logger_; }
  Metrics& metrics() noexcept { return metrics_; }
  const std::vector<int>& stop_http_statuses() const noexcept { return stop_statuses_; }
  const close_code_predicate& stop_close_code() const noexcept { return stop_close_; }
  const reconnect_hook& reconnect_callback() const noexcept { return before_reconnect_; }
  milliseconds min_uptime() const noexcept { return min_uptime_; }
  const std::string& tls_ca_file() const noexcept { return tls_ca_file_; }
  bool tls_verify() const noexcept { return tls_verify_; }
  const std::string& tls_client_cert_file() const noexcept { return tls_client_cert_file_; }
  const std::string& tls_client_key_file() const noexcept { return tls_client_key_file_; }
  const answer_key_extractor& answer_key_callback() const noexcept { return answer_key_; }
  /// The proxy to dial through; empty (operator bool false) when none.
  const detail::proxy_settings& proxy_settings() const noexcept { return proxy_; }

 private:
  message_handler on_message_;
  reason_handler on_drop_;
  restore_handler on_restore_;
  reason_handler on_disconnect_;
  bool reconnect_ = false;
  unsigned max_retries_ = Backoff::max_retries;
  milliseconds base_delay_ = Backoff::base_delay;
  milliseconds max_delay_ = Backoff::max_delay;
  milliseconds ping_period_ = Heartbeat::ping_period;
  milliseconds pong_wait_ = Heartbeat::pong_wait;
  milliseconds write_wait_ = Heartbeat::write_wait;
  std::size_t max_message_size_ = Bounds::max_message_bytes;
  milliseconds handshake_timeout_{10000};
  header_list dial_headers_;
  Codec codec_{};
  Logger logger_{};
  Metrics metrics_{};
  std::vector<int> stop_statuses_;
  close_code_predicate stop_close_;
  reconnect_hook before_reconnect_;
  milliseconds min_uptime_{0};
  std::string tls_ca_file_;
  bool tls_verify_ = true;
  std::string tls_client_cert_file_;
  std::string tls_client_key_file_;
  answer_key_extractor answer_key_;
  detail::proxy_settings proxy_;
};

}  // namespace wspulse
