// wspulse_client — redaction of secrets (tokens in query strings, credentials in URLs, header
// values) before a URL or a header reaches a logger.
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace wspulse {

namespace detail {
// RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
constexpr bool is_url_scheme(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!(alpha || (i > 0 && other))) return false;
  }
  return true;
}

inline constexpr std::string_view redaction_mark = "***";
}  // namespace detail

/// A copy of `url` that is safe to log: scheme, host, port, path and query keys are kept;
/// every query value becomes `***`; credentials (`user:pass@`) become `***@`; a fragment
/// becomes `#***`.
///
/// `ws://u:p@h:8080/ws?room=r1&token=xyz#f` → `ws://***@h:8080/ws?room=***&token=***#***`.
/// Query parts without '=' are kept as they are (they are keys); empty parts are kept
/// (`?a=1&&b` → `?a=***&&b`).
///
/// Works on any input, never throws on malformed text (only std::bad_alloc), and errs on the
/// side of hiding: an '@' anywhere before the query hides everything between the scheme and
/// the last such '@' (so a password holding '/' does not leak), and text that does not start
/// with a valid `scheme://` is treated as starting with the authority.
inline std::string redact_url(std::string_view url) {
  std::string out;
  out.reserve(url.size() + 16);
  std::size_t pos = 0;

  if (const std::size_t sep = url.find("://");
      sep != std::string_view::npos && detail::is_url_scheme(url.substr(0, sep))) {
    pos = sep + 3;
    out.append(url.data(), pos);
  }

  // Authority and path: everything up to the query or the fragment.
  const std::size_t head_end = url.find_first_of("?#", pos);
  std::string_view head =
      url.substr(pos, head_end == std::string_view::npos ? std::string_view::npos : head_end - pos);
  if (const std::size_t at = head.rfind('@'); at != std::string_view::npos) {
    out.append(detail::redaction_mark);
    head.remove_prefix(at);  // keep "@host…"
  }
  out.append(head);
  if (head_end == std::string_view::npos) return out;

  std::size_t fragment = head_end;
  if (url[head_end] == '?') {
    fragment = url.find('#', head_end + 1);
    std::string_view query =
        url.substr(head_end + 1, fragment == std::string_view::npos ? std::string_view::npos
                                                                    : fragment - head_end - 1);
    out.push_back('?');
    while (true) {
      const std::size_t amp = query.find('&');
      const std::string_view part = query.substr(0, amp);
      const std::size_t eq = part.find('=');
      out.append(part.substr(0, eq));
      if (eq != std::string_view::npos) {
        out.push_back('=');
        out.append(detail::redaction_mark);
      }
      if (amp == std::string_view::npos) break;
      out.push_back('&');
      query.remove_prefix(amp + 1);
    }
  }

  if (fragment != std::string_view::npos) {
    out.push_back('#');
    if (fragment + 1 < url.size()) out.append(detail::redaction_mark);
  }
  return out;
}

/// A header line that is safe to log: `name: ***`. The value is never shown, whatever the
/// header (dial headers typically carry tokens).
inline std::string redact_header(std::string_view name, std::string_view value) {
  (void)value;
  std::string out;
  out.reserve(name.size() + 2 + detail::redaction_mark.size());
  out.append(name);
  out.append(": ");
  out.append(detail::redaction_mark);
  return out;
}

}  // namespace wspulse
