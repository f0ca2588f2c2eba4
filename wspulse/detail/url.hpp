// wspulse_client — dial URL checks: scheme mapping and the errors reported before any I/O.
// SPDX-License-Identifier: MIT
#pragma once

#include "../error.hpp"

#include <cctype>
#include <string>
#include <string_view>

namespace wspulse {
namespace detail {

struct dial_url {
  std::string text;  ///< normalised: ws:// or wss://
  bool secure = false;
};

inline bool iequals_prefix(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

/// http(s) become ws(s), case-insensitively; any other or missing scheme, an empty host, or
/// white space → errc::invalid_url.
inline std::error_code normalize_url(std::string_view in, dial_url& out) {
  struct mapping {
    std::string_view from, to;
    bool secure;
  };
  static constexpr mapping schemes[] = {{"ws://", "ws://", false},
                                        {"wss://", "wss://", true},
                                        {"http://", "ws://", false},
                                        {"https://", "wss://", true}};
  for (const mapping& m : schemes) {
    if (!iequals_prefix(in, m.from)) continue;
    const std::string_view rest = in.substr(m.from.size());
    const std::size_t host_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, host_end);
    if (authority.empty() || authority.front() == ':') return errc::invalid_url;
    for (char c : in)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return errc::invalid_url;
    out.text.assign(m.to);
    out.text.append(rest);
    out.secure = m.secure;
    return {};
  }
  return errc::invalid_url;
}

}  // namespace detail
}  // namespace wspulse
