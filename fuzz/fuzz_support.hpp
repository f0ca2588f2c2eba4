// wspulse_client fuzzing — what every target shares: property checks that abort with a message
// (libFuzzer then saves the input as a crash artifact), a byte reader that splits one fuzz
// input into several values, and an independent strict UTF-8 check used as an oracle.
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace wspulse_fuzz {

[[noreturn]] inline void violated(const char* property, std::string_view detail = {}) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n", property);
  if (!detail.empty())
    std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void check(const char* property, bool holds, std::string_view detail = {}) {
  if (!holds) violated(property, detail);
}

/// WSPULSE_FUZZ_CHECK(condition) or WSPULSE_FUZZ_CHECK(condition, detail shown on failure).
#define WSPULSE_FUZZ_CHECK(...) ::wspulse_fuzz::check(#__VA_ARGS__, __VA_ARGS__)

/// Consumes a fuzz input front to back; past the end every read yields zero / empty.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size)
      : p_(reinterpret_cast<const char*>(data)), left_(size) {}

  bool empty() const noexcept { return left_ == 0; }
  std::uint8_t byte() {
    if (left_ == 0) return 0;
    --left_;
    return static_cast<std::uint8_t>(*p_++);
  }
  /// Up to `n` bytes.
  std::string_view take(std::size_t n) {
    if (n > left_) n = left_;
    std::string_view s(p_, n);
    p_ += n;
    left_ -= n;
    return s;
  }
  /// A string whose length is the next byte.
  std::string_view sized() { return take(byte()); }
  std::string_view rest() { return take(left_); }

 private:
  const char* p_;
  std::size_t left_;
};

/// Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), written
/// independently of the library's own check so each can catch the other.
inline bool strict_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned char t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace wspulse_fuzz
