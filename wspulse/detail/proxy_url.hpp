// wspulse_client — the HTTP CONNECT proxy of options::proxy(): its URL, checked when it is set,
// and its Basic credentials, kept only as the encoded Proxy-Authorization value.
// SPDX-License-Identifier: MIT
#pragma once

#include "../config.hpp"

#include <websocketpp/base64/base64.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wspulse {
namespace detail {

/// Where and how to open the tunnel. Empty host: no proxy.
struct proxy_settings {
  std::string host;           ///< name or IP literal (an IPv6 literal without its brackets)
  std::string port;           ///< decimal, "80" when the URL names none
  std::string authorization;  ///< "Basic …" (Proxy-Authorization), empty without credentials
  std::string display;        ///< "http://host:port": safe to log and to put in a reason

  explicit operator bool() const noexcept { return !host.empty(); }
};

[[noreturn]] inline void invalid_proxy(const char* rule) {
  throw std::invalid_argument(std::string("wspulse: proxy: ") + rule);
}

inline bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

inline bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// `http://host[:port][/]` → proxy_settings. The error messages never echo the URL (it may
/// hold credentials).
inline proxy_settings parse_proxy_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.size() < scheme.size() || !equals_ignoring_case(url.substr(0, scheme.size()), scheme))
    invalid_proxy("the URL must start with http:// (an HTTP CONNECT proxy)");
  std::string_view rest = url.substr(scheme.size());
  const std::size_t end = rest.find_first_of("/?#");
  const std::string_view tail =
      end == std::string_view::npos ? std::string_view() : rest.substr(end);
  std::string_view authority = rest.substr(0, end);
  if (!tail.empty() && tail != "/")
    invalid_proxy("the URL must not have a path, query or fragment");
  if (authority.find('@') != std::string_view::npos)
    invalid_proxy("credentials go in proxy(url, user, password), not in the URL");

  proxy_settings out;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6 literal]
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) invalid_proxy("malformed IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    for (char c : out.host)
      if (!(is_host_char(c) || c == ':' || c == '%')) invalid_proxy("malformed IPv6 host");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') invalid_proxy("malformed host");
    port = after.empty() ? std::string_view() : after.substr(1);
    if (!after.empty() && port.empty()) invalid_proxy("the port must be in [1, 65535]");
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) invalid_proxy("the port must be in [1, 65535]");
    }
    for (char c : out.host)
      if (!is_host_char(c)) invalid_proxy("the host must be a DNS name or an IP literal");
  }
  if (out.host.empty()) invalid_proxy("the URL needs a host");
  unsigned long number = 80;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      invalid_proxy("the port must be in [1, 65535]");
    number = std::stoul(std::string(port));
    if (number == 0 || number > 65535) invalid_proxy("the port must be in [1, 65535]");
  }
  out.port = std::to_string(number);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.display = "http://" + (v6 ? "[" + out.host + "]" : out.host) + ":" + out.port;
  return out;
}

/// Basic credentials (RFC 7617): the user may not hold ':'; neither may hold CR, LF or NUL.
inline void set_proxy_credentials(proxy_settings& proxy, std::string_view user,
                                  std::string_view password) {
  if (user.empty()) invalid_proxy("the user name must not be empty");
  if (user.find(':') != std::string_view::npos) invalid_proxy("the user name must not hold ':'");
  for (std::string_view part : {user, password})
    for (char c : part)
      if (c == '\r' || c == '\n' || c == '\0')
        invalid_proxy("credentials must not contain CR, LF or NUL");
  std::string plain;
  plain.reserve(user.size() + 1 + password.size());
  plain.append(user).append(1, ':').append(password);
  proxy.authorization = "Basic " + websocketpp::base64_encode(plain);
}

}  // namespace detail
}  // namespace wspulse
