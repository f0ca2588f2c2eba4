// wspulse_client — error codes (category "wspulse"), the reason a transport or client ended,
// and the exceptions thrown by the throwing form of dial and carried by a failed request.
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"

#include <cstdint>
#include <memory>  // std::shared_ptr: dial_error / request_error copies never throw
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace wspulse {

/// Every error this library reports. Values are stable (they may be logged or stored).
enum class errc {
  connection_closed = 1,  ///< send() after the client reached CLOSED
  send_buffer_full,       ///< the bounded send queue is full; the frame was not taken
  invalid_payload,        ///< the payload is not one valid JSON value (JSON codec)
  decode_failed,          ///< an inbound message could not be decoded
  connection_lost,        ///< the transport died (TCP reset, EOF, protocol error)
  retries_exhausted,      ///< every reconnect attempt of an outage failed
  server_closed,          ///< the server sent a close frame (see reason::close_code)
  handshake_rejected,     ///< the server refused the upgrade (see reason::http_status)
  handshake_timeout,      ///< the upgrade did not complete within handshake_timeout
  heartbeat_timeout,      ///< nothing arrived for pong_wait
  write_timeout,          ///< a write did not complete within write_wait
  message_too_big,        ///< an inbound message exceeded max_message_size (closed with 1009)
  callback_failed,        ///< on_message threw; the transport was dropped
  invalid_url,            ///< not a ws/wss/http/https URL, or malformed
  tls_unavailable,        ///< a wss:// URL on a build without WSPULSE_CLIENT_ENABLE_TLS
  // Beyond api.md's list (appended, so earlier values stay stable):
  tls_handshake_failed,  ///< certificate or TLS protocol failure (see reason::detail)
  request_timeout,       ///< no answer to a request() within its timeout
  too_many_requests,     ///< the bounded table of pending requests is full; nothing was sent
  duplicate_request,     ///< a request with that id (or key) is already pending; nothing was sent
};

namespace detail {
class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wspulse"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::connection_closed: return "connection closed";
      case errc::send_buffer_full: return "send buffer full";
      case errc::invalid_payload: return "payload is not valid JSON";
      case errc::decode_failed: return "message could not be decoded";
      case errc::connection_lost: return "connection lost";
      case errc::retries_exhausted: return "reconnect retries exhausted";
      case errc::server_closed: return "server closed the connection";
      case errc::handshake_rejected: return "server rejected the handshake";
      case errc::handshake_timeout: return "handshake timed out";
      case errc::heartbeat_timeout: return "heartbeat timed out";
      case errc::write_timeout: return "write timed out";
      case errc::message_too_big: return "inbound message too big";
      case errc::callback_failed: return "on_message callback threw";
      case errc::invalid_url: return "invalid URL";
      case errc::tls_unavailable: return "TLS support not compiled in";
      case errc::tls_handshake_failed: return "TLS handshake failed";
      case errc::request_timeout: return "request timed out";
      case errc::too_many_requests: return "too many pending requests";
      case errc::duplicate_request: return "a request with this id is already pending";
    }
    return "unknown wspulse error";
  }
};
}  // namespace detail

/// The "wspulse" error category.
inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Why a transport dropped or the client finished. An empty code means the user called close().
struct reason {
  std::error_code code;        ///< empty = the user called close()
  std::uint16_t close_code{};  ///< close frame code received from the server, 0 if none
  std::string close_text;      ///< close frame reason received from the server
  int http_status{};           ///< HTTP status of a refused upgrade, 0 if none
  std::string detail;          ///< beyond api.md: transport detail ("Connection refused", a TLS
                               ///< verification error, …); empty when there is none

  reason() = default;
  reason(std::error_code c) : code(c) {}  // NOLINT: implicit, so `reason r = errc::x` reads well
  reason(errc e) : code(make_error_code(e)) {}  // NOLINT

  /// True when an error is set (false for a user close).
  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  /// Human-readable: "server closed the connection (close 1000 \"kicked\")", "no error", …
  std::string message() const {
    std::string out = code ? code.message() : std::string("no error");
    if (close_code != 0) {
      out += " (close " + std::to_string(close_code);
      if (!close_text.empty()) out += " \"" + close_text + "\"";
      out += ')';
    }
    if (http_status != 0) out += " (HTTP " + std::to_string(http_status) + ')';
    if (!detail.empty()) out += ": " + detail;
    return out;
  }
};

namespace detail {
/// A std::system_error carrying a reason: what() is `prefix` followed by why().message().
/// Copying never throws (the reason and the text are shared between copies).
class reason_error : public std::system_error {
 public:
  reason_error(const char* prefix, reason why)
      : std::system_error(why.code),
        data_(std::make_shared<const data>(data{prefix + why.message(), std::move(why)})) {}

  /// Why it failed.
  const wspulse::reason& why() const noexcept { return data_->why; }

  // std::system_error's own text appends code().message(), which reason::message() already
  // starts with: the text is kept here instead.
  const char* what() const noexcept override { return data_->what.c_str(); }

 private:
  struct data {
    std::string what;
    wspulse::reason why;
  };
  std::shared_ptr<const data> data_;
};
}  // namespace detail

/// Thrown by the throwing form of dial(); carries the full reason.
///
/// `code()` is `why().code`; `what()` reads "wspulse: dial failed: " followed by
/// `why().message()`, e.g. "wspulse: dial failed: server rejected the handshake (HTTP 401)".
/// Copying never throws.
class dial_error : public detail::reason_error {
 public:
  explicit dial_error(reason why) : reason_error("wspulse: dial failed: ", std::move(why)) {}
};

/// The exception of a failed request() future; carries the full reason.
///
/// `code()` is `why().code`: errc::request_timeout, the reason of the drop or disconnect that
/// ended the request (e.g. errc::server_closed with its close code), errc::connection_closed,
/// or why it could not be sent (errc::send_buffer_full, errc::too_many_requests, …). `what()`
/// reads "wspulse: request failed: " followed by `why().message()`. Copying never throws.
class request_error : public detail::reason_error {
 public:
  explicit request_error(reason why) : reason_error("wspulse: request failed: ", std::move(why)) {}
};

}  // namespace wspulse

namespace std {
template <>
struct is_error_code_enum<wspulse::errc> : true_type {};
}  // namespace std
