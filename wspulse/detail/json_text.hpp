// wspulse_client — JSON text helpers for the JSON codec: UTF-8 validation and JSON string
// escaping of the frame's id and event.
// SPDX-License-Identifier: MIT
#pragma once

#include "../config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>  // std::memcpy
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace wspulse {
namespace detail {

// Length of the UTF-8 sequence that starts with lead byte `c` if the following bytes `p[1..]`
// (bounded by `end`) form a well-formed sequence (RFC 3629: no overlong forms, no UTF-16
// surrogates, nothing above U+10FFFF); 0 otherwise. `c` must be >= 0x80.
inline std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned char c = p[0];
  const auto left = static_cast<std::size_t>(end - p);
  auto cont = [](unsigned char b) noexcept { return (b & 0xC0u) == 0x80u; };
  if (c >= 0xC2 && c <= 0xDF) return (left >= 2 && cont(p[1])) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(p[2])) return 0;
    const unsigned char lo = (c == 0xE0) ? 0xA0 : 0x80;  // E0: reject overlong
    const unsigned char hi = (c == 0xED) ? 0x9F : 0xBF;  // ED: reject surrogates
    return (p[1] >= lo && p[1] <= hi) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(p[2]) || !cont(p[3])) return 0;
    const unsigned char lo = (c == 0xF0) ? 0x90 : 0x80;  // F0: reject overlong
    const unsigned char hi = (c == 0xF4) ? 0x8F : 0xBF;  // F4: nothing above U+10FFFF
    return (p[1] >= lo && p[1] <= hi) ? 4 : 0;
  }
  return 0;  // continuation byte as lead, C0/C1 (overlong), F5..FF
}

// True for the bytes that end a run of plain string content: >= 0x80, < 0x20, '"' and '\\'.
constexpr bool json_string_special(unsigned char c) noexcept {
  return c >= 0x80 || c < 0x20 || c == '"' || c == '\\';
}

// The first byte in [p, end) for which json_string_special is true, or `end`: 16 bytes a step
// with SSE2, else 8 (exact per-byte tests without carries between bytes), then byte by byte.
inline const char* json_find_string_special(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed: bytes >= 0x80 are negative, so "< 0x20" also catches them.
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    const int mask = _mm_movemask_epi8(hits);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Fu;
  constexpr std::uint64_t high = 0x8080808080808080u;
  constexpr std::uint64_t ones = 0x0101010101010101u;
  const auto zero_bytes = [](std::uint64_t y) {  // high bit of each byte of y that is 0
    return ~(((y & low7) + low7) | y) & high;
  };
  while (end - p >= 8) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    const std::uint64_t below_space = ~((x & low7) + ones * (0x80 - 0x20)) & ~x & high;
    const std::uint64_t hits =
        (x & high) | below_space | zero_bytes(x ^ (ones * '"')) | zero_bytes(x ^ (ones * '\\'));
    if (hits != 0) return p + (__builtin_ctzll(hits) >> 3);
    p += 8;
  }
#endif
  while (p != end && !json_string_special(static_cast<unsigned char>(*p))) ++p;
  return p;
}

// True when `s` is well-formed UTF-8.
inline bool utf8_valid(std::string_view s) noexcept {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  const auto end = p + s.size();
  while (p != end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const std::size_t n = utf8_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

// Short escape for a byte that must be escaped inside a JSON string ('"', '\\', < 0x20):
// the letter after the backslash, 'u' for the \u00XX form, 0 when the byte needs no escape.
inline char json_escape_letter(unsigned char c) noexcept {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default: return c < 0x20 ? 'u' : '\0';
  }
}

// Validates `s` as UTF-8 and computes the size of its JSON-escaped form (without the quotes).
// Returns false (and leaves `size` unspecified) when `s` is not valid UTF-8.
inline bool json_escaped_size(std::string_view s, std::size_t& size) noexcept {
  const char* p = s.data();
  const char* const end = p + s.size();
  std::size_t extra = 0;
  for (;;) {
    p = json_find_string_special(p, end);
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      extra += json_escape_letter(c) == 'u' ? 5u : 1u;
      ++p;
      continue;
    }
    const std::size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                               reinterpret_cast<const unsigned char*>(end));
    if (n == 0) return false;
    p += n;
  }
  size = s.size() + extra;
  return true;
}

// Writes `s` (already validated by json_escaped_size) at `out` as JSON string content and returns
// the end: '"', '\\' and control characters escaped (\b \f \n \r \t, else \u00xx), everything
// else, multi-byte UTF-8 included, copied unchanged. `out` must have room for the escaped size.
inline char* json_write_escaped(std::string_view s, char* out) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* const end = p + s.size();
  for (;;) {
    const char* run_end = json_find_string_special(p, end);
    while (run_end != end && static_cast<unsigned char>(*run_end) >= 0x80) {  // copied as is
      run_end = json_find_string_special(run_end + 1, end);
    }
    if (run_end != p) std::memcpy(out, p, static_cast<std::size_t>(run_end - p));
    out += run_end - p;
    if (run_end == end) return out;
    const auto c = static_cast<unsigned char>(*run_end);
    p = run_end + 1;
    *out++ = '\\';
    const char letter = json_escape_letter(c);
    *out++ = letter;
    if (letter == 'u') {
      *out++ = '0';
      *out++ = '0';
      *out++ = hex[c >> 4];
      *out++ = hex[c & 0xF];
    }
  }
}

// JSON insignificant whitespace (RFC 8259 §2).
constexpr bool json_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The first byte at or after `p` that is not JSON white space, or `end`.
inline const char* json_skip_space(const char* p, const char* end) noexcept {
  while (p != end && json_space(*p)) ++p;
  return p;
}

}  // namespace detail
}  // namespace wspulse
