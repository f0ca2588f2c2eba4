// wspulse_client — the check json_codec::encode makes of a payload: exactly one JSON value. One
// pass, no allocation, no recursion. It accepts exactly what the RapidJSON reader of json_sax.hpp
// accepts (tests/test_codec.cpp compares them on every refusal case and on random input, and the
// codec fuzz target on arbitrary bytes); it only skips RapidJSON's per-token handler calls and
// per-byte stream reads, which made the payload check most of encode's cost.
// SPDX-License-Identifier: MIT
#pragma once

#include "../config.hpp"
#include "json_sax.hpp"  // json_parse_payload: numbers near the range of a double
#include "json_text.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>  // std::memcmp
#include <string_view>

namespace wspulse {
namespace detail {

constexpr bool json_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr int json_hex_digit(char c) noexcept {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

// The code unit of the 4 hex digits at `p` (room checked by the caller), or -1.
inline long json_hex4(const char* p) noexcept {
  long v = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = json_hex_digit(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The escape sequence at `p` (just past its '\\'): the end of it, or nullptr. As RapidJSON: a
// high surrogate must be followed by an escaped low one; a lone low surrogate passes.
inline const char* json_scan_escape(const char* p, const char* end) noexcept {
  if (p == end) return nullptr;
  switch (*p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': return p + 1;
    case 'u': break;
    default: return nullptr;
  }
  if (end - p < 5) return nullptr;
  const long unit = json_hex4(p + 1);
  if (unit < 0) return nullptr;
  p += 5;
  if (unit < 0xD800 || unit > 0xDBFF) return p;
  if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return nullptr;
  const long low = json_hex4(p + 2);
  return low >= 0xDC00 && low <= 0xDFFF ? p + 6 : nullptr;
}

// The string whose content starts at `p` (just past its opening quote): the end of its closing
// quote, or nullptr. Plain ASCII is skipped 8 or 16 bytes at a time; multi-byte UTF-8 must be
// well-formed.
inline const char* json_scan_string(const char* p, const char* end) noexcept {
  for (;;) {
    p = json_find_string_special(p, end);
    if (p == end) return nullptr;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p + 1;
    if (c == '\\') {
      p = json_scan_escape(p + 1, end);
      if (p == nullptr) return nullptr;
    } else if (c < 0x20) {
      return nullptr;
    } else {
      const std::size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                                 reinterpret_cast<const unsigned char*>(end));
      if (n == 0) return nullptr;
      p += n;
    }
  }
}

// The number at `p`: its end, or nullptr. The grammar is RFC 8259's. RapidJSON also refuses
// numbers beyond the range of a double (1e400, but also 0e999: it bounds the exponent before it
// looks at the digits), by rules tied to its arithmetic; a number that might come near the range
// (integer digits + exponent over 300) is therefore handed to RapidJSON itself.
inline const char* json_scan_number(const char* p, const char* end) {
  const char* const start = p;
  if (*p == '-') ++p;
  const char* const integer = p;
  if (p == end || !json_digit(*p)) return nullptr;
  if (*p++ != '0') {
    while (p != end && json_digit(*p)) ++p;
  }
  std::size_t magnitude = static_cast<std::size_t>(p - integer);  // digits + positive exponent
  if (p != end && *p == '.') {
    ++p;
    if (p == end || !json_digit(*p)) return nullptr;
    while (p != end && json_digit(*p)) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    ++p;
    const bool negative = p != end && *p == '-';
    if (p != end && (*p == '-' || *p == '+')) ++p;
    if (p == end || !json_digit(*p)) return nullptr;
    std::size_t exponent = 0;
    for (; p != end && json_digit(*p); ++p) {
      if (exponent < 100000) exponent = exponent * 10 + static_cast<std::size_t>(*p - '0');
    }
    if (!negative) magnitude += exponent;
  }
  if (magnitude > 300) {
    std::string_view unused;
    if (!json_parse_payload(std::string_view(start, static_cast<std::size_t>(p - start)), unused))
      return nullptr;
  }
  return p;
}

// Checks that `text` holds exactly one JSON value, optionally surrounded by white space, nested
// at most json_max_depth levels counting `depth` levels around it (1: the frame object). On
// success `value` is the value without the surrounding white space. Same contract as
// json_parse_payload, faster.
inline bool json_validate_payload(std::string_view text, std::size_t depth,
                                  std::string_view& value) {
  const char* p = text.data();
  const char* const end = p + text.size();
  // One bit per open container, set for an object: what ',' and the closing bracket expect.
  constexpr std::size_t word_bits = 64;
  std::uint64_t in_object[json_max_depth / word_bits + 1];
  std::size_t open = 0;  // containers open inside the value
  const auto top_is_object = [&] {
    const std::size_t i = open - 1;
    return (in_object[i / word_bits] >> (i % word_bits)) & 1u;
  };
  const auto push = [&](bool object) {
    if (++depth > json_max_depth) return false;
    const std::size_t i = open++;
    const std::uint64_t bit = std::uint64_t{1} << (i % word_bits);
    auto& word = in_object[i / word_bits];
    word = object ? (word | bit) : (word & ~bit);
    return true;
  };
  const auto literal = [&](std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() ||
        std::memcmp(p, word.data(), word.size()) != 0)
      return false;
    p += word.size();
    return true;
  };

  p = json_skip_space(p, end);
  const char* const begin = p;
expect_value:
  if (p == end) return false;
  switch (*p) {
    case '{':
      if (!push(true)) return false;
      p = json_skip_space(p + 1, end);
      if (p != end && *p == '}') goto close_container;
      goto expect_key;
    case '[':
      if (!push(false)) return false;
      p = json_skip_space(p + 1, end);
      if (p != end && *p == ']') goto close_container;
      goto expect_value;
    case '"': p = json_scan_string(p + 1, end); break;
    case 't':
      if (!literal("true")) return false;
      break;
    case 'f':
      if (!literal("false")) return false;
      break;
    case 'n':
      if (!literal("null")) return false;
      break;
    default:
      if (*p != '-' && !json_digit(*p)) return false;
      p = json_scan_number(p, end);
  }
  if (p == nullptr) return false;
after_value:
  if (open == 0) {
    value = std::string_view(begin, static_cast<std::size_t>(p - begin));
    return json_skip_space(p, end) == end;
  }
  p = json_skip_space(p, end);
  if (p == end) return false;
  if (*p == ',') {
    p = json_skip_space(p + 1, end);
    if (top_is_object()) goto expect_key;
    goto expect_value;
  }
  if (*p != (top_is_object() ? '}' : ']')) return false;
close_container:
  ++p;
  --open;
  --depth;
  goto after_value;
expect_key:
  if (p == end || *p != '"') return false;
  p = json_scan_string(p + 1, end);
  if (p == nullptr) return false;
  p = json_skip_space(p, end);
  if (p == end || *p != ':') return false;
  p = json_skip_space(p + 1, end);
  goto expect_value;
}

}  // namespace detail
}  // namespace wspulse
