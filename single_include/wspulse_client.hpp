// wspulse_client 0.1.0 — single-header edition.
//
// GENERATED FILE, DO NOT EDIT: produced by tools/amalgamate from wspulse_client.hpp and
// the headers in wspulse/. Edit those, then run `tools/amalgamate` (CI runs
// `tools/amalgamate --check`). Use it exactly like the modular headers:
// `#include <wspulse_client.hpp>` with single_include/ on the include path, ASIO_STANDALONE
// defined, and websocketpp, Asio and RapidJSON available.
// SPDX-License-Identifier: MIT
#pragma once
#define WSPULSE_CLIENT_SINGLE_HEADER 1  // set only by this generated edition

// wspulse_client — header-only C++17 client for the wspulse WebSocket protocol.
// This umbrella header includes every part; single_include/wspulse_client.hpp is generated
// from it by tools/amalgamate and behaves the same.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// wspulse_client — compile-time checks every part relies on.
// SPDX-License-Identifier: MIT

#if !defined(_MSVC_LANG) && __cplusplus < 201703L
#error "wspulse_client needs C++17 or newer: compile with -std=c++17 (or -std=c++20)."
#elif defined(_MSVC_LANG) && _MSVC_LANG < 201703L
#error "wspulse_client needs C++17 or newer: compile with /std:c++17 (or newer)."
#endif

// #include "wspulse/version.hpp"
// wspulse_client — version: the one place the version is written (CMake and meson read it).
// SPDX-License-Identifier: MIT

#define WSPULSE_CLIENT_VERSION_MAJOR 0
#define WSPULSE_CLIENT_VERSION_MINOR 1
#define WSPULSE_CLIENT_VERSION_PATCH 0
#define WSPULSE_CLIENT_VERSION_STRING "0.1.0"

// websocketpp and Asio report errors by throwing (the library turns them into error codes), and
// dial() and the option setters throw: a build without exceptions cannot work.
#if !defined(__cpp_exceptions) && !defined(__EXCEPTIONS) && !defined(_CPPUNWIND)
#error \
    "wspulse_client needs C++ exceptions (websocketpp and Asio report errors by throwing; dial() and the option setters throw): remove -fno-exceptions for the files that include it."
#endif
// #include "wspulse/frame.hpp"
// wspulse_client — the message unit exchanged with a wspulse server.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

#include <cstdint>
#include <string>

namespace wspulse {

/// One application message. On the wire (JSON codec):
/// `{"id":…,"event":…,"payload":<raw JSON>}`, each field omitted when empty.
struct frame {
  std::string id;       ///< correlation id; current servers ignore it, older ones echo it
  std::string event;    ///< routing key on the server
  std::string payload;  ///< raw JSON text (JSON codec) or opaque bytes (custom codecs)

  friend bool operator==(const frame& a, const frame& b) noexcept {
    return a.id == b.id && a.event == b.event && a.payload == b.payload;
  }
  friend bool operator!=(const frame& a, const frame& b) noexcept { return !(a == b); }
};

/// WebSocket opcode a codec's output travels in.
enum class wire_type : std::uint8_t { text = 1, binary = 2 };

}  // namespace wspulse
// #include "wspulse/error.hpp"
// wspulse_client — error codes (category "wspulse"), the reason a transport or client ended,
// and the exceptions thrown by the throwing form of dial and carried by a failed request.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

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
// #include "wspulse/codec.hpp"
// wspulse_client — codecs: how a frame becomes the bytes of one WebSocket message and back.
// Defines the Codec requirements and json_codec, the default (RapidJSON, text frames).
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// #include "wspulse/detail/json_sax.hpp"
// wspulse_client — the RapidJSON SAX machinery behind the JSON codec: a bounded input stream, an
// allocation-free scratch allocator for the reader's stack, and the event handlers that pull a
// frame out of a message or check that a payload is one JSON value.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// #include "wspulse/frame.hpp"
// #include "wspulse/detail/json_text.hpp"
// wspulse_client — JSON text helpers for the JSON codec: UTF-8 validation and JSON string
// escaping of the frame's id and event.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

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

// RapidJSON configuration macros (RAPIDJSON_SSE2, RAPIDJSON_SSE42, RAPIDJSON_NEON,
// RAPIDJSON_ASSERT, ...) are deliberately not defined here: they change RapidJSON's own types,
// so defining them in one header would give different translation units different definitions
// (an ODR violation). Users who want them define them globally, for every TU
// (e.g. -DRAPIDJSON_SSE42). This codec does not depend on any of them.
#include <rapidjson/reader.h>

#include <cstddef>
#include <cstdint>
#include <cstring>  // std::memcpy
#include <new>      // ::operator new / delete
#include <string>
#include <string_view>

namespace wspulse {
namespace detail {

namespace rj = RAPIDJSON_NAMESPACE;

// Maximum nesting depth of a message, counting the frame object itself as level 1 (so a payload
// may nest 9,999 levels). Same limit as Go's encoding/json, which the wspulse server uses: a frame
// deeper than this would be refused by the server anyway. It also bounds the reader's stack
// (8 bytes per level) for hostile input such as 64 MiB of '['.
constexpr std::size_t json_max_depth = 10000;

// Read-only RapidJSON stream over a bounded buffer (the input need not be NUL-terminated).
// Past the end it reads '\0', which RapidJSON treats as end of input; a NUL *inside* the buffer
// also reads as '\0', so callers check that parsing stopped at the real end.
// Local-copy optimisation stays off (the default StreamTraits): handlers call Tell() on this
// very object during parsing and must see the current position.
class json_input {
 public:
  typedef char Ch;  // NOLINT: name required by RapidJSON's Stream concept

  json_input(const char* data, std::size_t size) noexcept
      : cur_(data), begin_(data), end_(data + size) {}

  Ch Peek() const noexcept { return cur_ != end_ ? *cur_ : '\0'; }
  Ch Take() noexcept { return cur_ != end_ ? *cur_++ : '\0'; }
  std::size_t Tell() const noexcept { return static_cast<std::size_t>(cur_ - begin_); }

  // Write side of the Stream concept; only used by in-situ parsing, which this codec never does.
  Ch* PutBegin() noexcept { return nullptr; }
  void Put(Ch) noexcept {}
  void Flush() noexcept {}
  std::size_t PutEnd(Ch*) noexcept { return 0; }

  // Raw access for json_utf8::Validate.
  const char* position() const noexcept { return cur_; }
  const char* end() const noexcept { return end_; }
  void advance_to(const char* p) noexcept { cur_ = p; }

  // While set, json_utf8::Validate checks string bytes without copying them to the reader's
  // stack: the handler will not look at that string (payload content, unknown members), so the
  // copy would be wasted work and, for long strings, heap allocations. (The reader still pushes
  // the characters its escape sequences stand for; the handler then gets a partial string.)
  bool skip_string_copy() const noexcept { return skip_copy_; }
  void skip_string_copy(bool skip) noexcept { skip_copy_ = skip; }

 private:
  const char* cur_;
  const char* begin_;
  const char* end_;
  bool skip_copy_ = false;
};

// RapidJSON's UTF-8 encoding with a faster Validate. With kParseValidateEncodingFlag the reader
// calls Validate for every string byte that is not '"', '\\' or a control character, expecting it
// to consume (and copy to `os`) one well-formed code point. RapidJSON's own version is a
// non-inlined call per byte; this one consumes the whole run of well-formed UTF-8 up to the next
// such byte, many ASCII bytes at a time (json_find_string_special), and copies it with one
// memcpy (or not at all, see json_input::skip_string_copy). The reader then carries on exactly as if it had called the
// per-byte version repeatedly, so validation is just as strict (RFC 3629: no overlong forms,
// surrogates or code points above U+10FFFF).
struct json_utf8 : rj::UTF8<char> {
  template <typename OutputStream>
  static bool Validate(json_input& is, OutputStream& os) {
    const char* const start = is.position();
    const char* const end = is.end();
    const char* p = start;
    for (;;) {
      p = json_find_string_special(p, end);
      if (p == end || static_cast<unsigned char>(*p) < 0x80) break;  // '"', '\\' or a control
      const std::size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                                 reinterpret_cast<const unsigned char*>(end));
      if (n == 0) {
        if (p == start) return false;  // the code point we were asked for is malformed
        break;                         // the next call reports it
      }
      p += n;
    }
    if (!is.skip_string_copy()) put_run(os, start, static_cast<std::size_t>(p - start));
    is.advance_to(p);
    return true;
  }

 private:
  template <typename OutputStream>
  static void put_run(OutputStream& os, const char* p, std::size_t n) {
    char* dst = static_cast<char*>(os.Push(static_cast<rj::SizeType>(n)));  // reader's StackStream
    if (n <= 16) {  // most JSON strings are short: skip the call to memcpy
      for (std::size_t i = 0; i < n; ++i) dst[i] = p[i];
    } else {
      std::memcpy(dst, p, n);
    }
  }
  // Instantiated (never run) by the reader's in-situ branch, which this codec never takes.
  static void put_run(json_input&, const char*, std::size_t) noexcept {}
};

}  // namespace detail
}  // namespace wspulse

RAPIDJSON_NAMESPACE_BEGIN
// The reader skips whitespace before every token; the generic version is an out-of-line loop.
// Compact JSON mostly has none, so test the first byte inline. (RapidJSON specialises this
// function for its own streams the same way.)
template <>
inline void SkipWhitespace(wspulse::detail::json_input& is) {
  while (wspulse::detail::json_space(is.Peek())) is.Take();
}
RAPIDJSON_NAMESPACE_END

namespace wspulse {
namespace detail {

// Allocator for the RapidJSON reader's internal stack (decoded strings, one 8-byte entry per
// nesting level). The first block is a buffer owned by the caller (on the C++ stack), so small
// and medium messages parse without touching the heap; larger needs move to ::operator new.
// Every block carries a 16-byte header telling the static Free() whether it owns the block.
class json_scratch_allocator {
 public:
  static constexpr bool kNeedFree = true;  // NOLINT: name required by RapidJSON's Allocator concept
  static constexpr std::size_t header = 16;

  json_scratch_allocator(unsigned char* buffer, std::size_t size) noexcept
      : buffer_(buffer), size_(size) {}
  // RapidJSON's Stack names this constructor, but never calls it when given an allocator.
  json_scratch_allocator() noexcept : buffer_(nullptr), size_(header) {}

  // Capacity of the caller's buffer as seen by the reader.
  std::size_t initial_capacity() const noexcept { return size_ - header; }

  void* Malloc(std::size_t size) { return Realloc(nullptr, 0, size); }

  void* Realloc(void* original, std::size_t original_size, std::size_t new_size) {
    if (original == nullptr && buffer_ != nullptr && new_size <= initial_capacity()) {
      mark(buffer_, false);
      return buffer_ + header;
    }
    if (original != nullptr && new_size <= original_size) return original;
    auto* block = static_cast<unsigned char*>(::operator new(new_size + header));
    mark(block, true);
    if (original != nullptr) {
      std::memcpy(block + header, original, original_size);
      Free(original);
    }
    return block + header;
  }

  static void Free(void* p) noexcept {
    if (p == nullptr) return;
    unsigned char* block = static_cast<unsigned char*>(p) - header;
    bool heap = false;
    std::memcpy(&heap, block, sizeof heap);
    if (heap) ::operator delete(block);
  }

 private:
  static void mark(unsigned char* block, bool heap) noexcept {
    std::memcpy(block, &heap, sizeof heap);
  }

  unsigned char* buffer_;
  std::size_t size_;
};

// Bytes of C++ stack lent to the reader: copied strings (id, event, top-level keys) up to ~2 KB
// and nesting up to ~250 levels parse without a heap allocation.
constexpr std::size_t json_scratch_size = 2048;

using json_reader = rj::GenericReader<json_utf8, json_utf8, json_scratch_allocator>;

// Iterative: no recursion, whatever the nesting depth. ValidateEncoding: strings must be valid
// UTF-8 (outside strings any non-ASCII byte is a syntax error anyway), so an accepted message or
// payload is valid UTF-8 as a whole. StopWhenDone: we check the tail ourselves, because a NUL
// byte would otherwise pass for the end of input.
constexpr unsigned json_parse_flags =
    rj::kParseIterativeFlag | rj::kParseValidateEncodingFlag | rj::kParseStopWhenDoneFlag;

// Offset of the first non-whitespace byte at or after `pos`.
inline std::size_t json_skip_space(std::string_view text, std::size_t pos) noexcept {
  const char* const end = text.data() + text.size();
  return static_cast<std::size_t>(json_skip_space(text.data() + pos, end) - text.data());
}

// Handler that accepts any JSON value, only limiting the nesting depth.
class json_value_sax {
 public:
  explicit json_value_sax(std::size_t depth) noexcept : depth_(depth) {}

  bool Null() noexcept { return true; }
  bool Bool(bool) noexcept { return true; }
  bool Int(int) noexcept { return true; }
  bool Uint(unsigned) noexcept { return true; }
  bool Int64(std::int64_t) noexcept { return true; }
  bool Uint64(std::uint64_t) noexcept { return true; }
  bool Double(double) noexcept { return true; }
  bool RawNumber(const char*, rj::SizeType, bool) noexcept { return true; }
  bool String(const char*, rj::SizeType, bool) noexcept { return true; }
  bool Key(const char*, rj::SizeType, bool) noexcept { return true; }
  bool StartObject() noexcept { return ++depth_ <= json_max_depth; }
  bool EndObject(rj::SizeType) noexcept {
    --depth_;
    return true;
  }
  bool StartArray() noexcept { return ++depth_ <= json_max_depth; }
  bool EndArray(rj::SizeType) noexcept {
    --depth_;
    return true;
  }

 private:
  std::size_t depth_;
};

// Checks that `text` holds exactly one JSON value, optionally surrounded by whitespace, nested at
// most json_max_depth levels when placed inside the frame object. On success `value` is the
// value without the surrounding whitespace (inner bytes untouched).
inline bool json_parse_payload(std::string_view text, std::string_view& value) {
  alignas(16) unsigned char scratch[json_scratch_size];
  json_scratch_allocator alloc(scratch, sizeof scratch);
  json_reader reader(&alloc, alloc.initial_capacity());
  json_input in(text.data(), text.size());
  in.skip_string_copy(true);  // only validity matters here
  json_value_sax sax(1);      // level 1 is the frame object the payload will be placed in
  if (reader.Parse<json_parse_flags>(in, sax).IsError()) return false;
  const std::size_t end = in.Tell();
  if (json_skip_space(text, end) != text.size()) return false;  // trailing bytes, or a NUL
  const std::size_t begin = json_skip_space(text, 0);
  value = text.substr(begin, end - begin);
  return true;
}

// Handler that fills a frame from the events of one message.
// Relies on two properties of RapidJSON's iterative parser (checked by the tests, and the second
// one re-checked at run time): a Key or scalar event fires after the token was consumed, so Tell()
// is just past it; EndObject/EndArray fires before the closing bracket is consumed, so Tell() is
// on it.
class json_frame_sax {
 public:
  json_frame_sax(json_input& in, std::string_view text, frame& out) noexcept
      : in_(in), text_(text), out_(out) {}

  bool Null() { return scalar(); }
  bool Bool(bool) { return scalar(); }
  bool Int(int) { return scalar(); }
  bool Uint(unsigned) { return scalar(); }
  bool Int64(std::int64_t) { return scalar(); }
  bool Uint64(std::uint64_t) { return scalar(); }
  bool Double(double) { return scalar(); }
  bool RawNumber(const char*, rj::SizeType, bool) { return scalar(); }

  bool String(const char* s, rj::SizeType n, bool) {
    if (depth_ != 1) return depth_ != 0;  // a bare string is not a frame
    switch (pending_) {
      case field::id: return take_string(out_.id, s, n);
      case field::event: return take_string(out_.event, s, n);
      case field::payload:
      case field::none: break;
    }
    return scalar();
  }

  bool Key(const char* s, rj::SizeType n, bool) {
    if (depth_ != 1) return true;  // keys of nested objects are payload or unknown-key content
    const std::string_view key(s, n);
    if (key == "id") {
      pending_ = field::id;
    } else if (key == "event") {
      pending_ = field::event;
    } else if (key == "payload") {
      pending_ = field::payload;
      key_end_ = in_.Tell();
    } else {
      pending_ = field::none;
    }
    // Only the value of "id" or "event" is read; payload and unknown values are only checked.
    in_.skip_string_copy(pending_ == field::none || pending_ == field::payload);
    return true;
  }

  bool StartObject() { return open(); }
  bool StartArray() { return depth_ != 0 && open(); }  // a top-level array is not a frame
  bool EndObject(rj::SizeType) { return close('}'); }
  bool EndArray(rj::SizeType) { return close(']'); }

  // After a successful parse: copies the payload's raw text into the frame.
  void finish() {
    if (has_payload_)
      out_.payload.assign(text_.data() + payload_begin_, payload_end_ - payload_begin_);
  }

 private:
  enum class field { none, id, event, payload };

  bool take_string(std::string& dst, const char* s, rj::SizeType n) {
    pending_ = field::none;
    in_.skip_string_copy(false);  // a key comes next
    // An escaped lone surrogate (\udc00) decodes to bytes that are not UTF-8; such an id could
    // never be sent back, so the message is refused.
    const std::string_view value(s, n);
    if (!utf8_valid(value)) return false;
    dst.assign(value.data(), value.size());
    return true;
  }

  // The payload starts at the first byte after the key's ':' and the whitespace around it.
  std::size_t payload_start() const noexcept {
    std::size_t pos = key_end_;
    while (text_[pos] != ':') ++pos;  // only whitespace lies between: the parser checked it
    return json_skip_space(text_, pos + 1);
  }

  bool scalar() {
    if (depth_ != 1) return depth_ != 0;  // a bare scalar is not a frame
    in_.skip_string_copy(false);          // a key comes next
    switch (pending_) {
      case field::none: return true;
      case field::id:
      case field::event: return false;  // id and event must be strings (null included)
      case field::payload: break;
    }
    pending_ = field::none;
    payload_begin_ = payload_start();
    payload_end_ = in_.Tell();
    has_payload_ = true;
    return true;
  }

  bool open() {
    if (depth_ == 1) {
      if (pending_ == field::id || pending_ == field::event) return false;
      in_payload_ = pending_ == field::payload;
      pending_ = field::none;
    }
    return ++depth_ <= json_max_depth;
  }

  bool close(char bracket) {
    if (--depth_ == 1) in_.skip_string_copy(false);  // a key comes next
    if (depth_ == 1 && in_payload_) {
      const std::size_t at = in_.Tell();
      if (at >= text_.size() || text_[at] != bracket) return false;  // see the class comment
      in_payload_ = false;
      payload_begin_ = payload_start();
      payload_end_ = at + 1;
      has_payload_ = true;
    }
    return true;
  }

  json_input& in_;
  std::string_view text_;
  frame& out_;
  std::size_t depth_ = 0;  // 1 = directly inside the frame object
  field pending_ = field::none;
  bool in_payload_ = false;  // inside the payload's object/array
  bool has_payload_ = false;
  std::size_t key_end_ = 0;  // just past the last top-level "payload" key
  std::size_t payload_begin_ = 0;
  std::size_t payload_end_ = 0;
};

// Parses one message into `out` (whose fields were cleared by the caller).
inline bool json_parse_frame(std::string_view text, frame& out) {
  alignas(16) unsigned char scratch[json_scratch_size];
  json_scratch_allocator alloc(scratch, sizeof scratch);
  json_reader reader(&alloc, alloc.initial_capacity());
  json_input in(text.data(), text.size());
  json_frame_sax sax(in, text, out);
  if (reader.Parse<json_parse_flags>(in, sax).IsError()) return false;
  if (json_skip_space(text, in.Tell()) != text.size()) return false;  // trailing bytes, or a NUL
  sax.finish();
  return true;
}

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/json_text.hpp"
// #include "wspulse/detail/json_validate.hpp"
// wspulse_client — the check json_codec::encode makes of a payload: exactly one JSON value. One
// pass, no allocation, no recursion. It accepts exactly what the RapidJSON reader of json_sax.hpp
// accepts (tests/test_codec.cpp compares them on every refusal case and on random input, and the
// codec fuzz target on arbitrary bytes); it only skips RapidJSON's per-token handler calls and
// per-byte stream reads, which made the payload check most of encode's cost.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// #include "wspulse/detail/json_sax.hpp"
// #include "wspulse/detail/json_text.hpp"

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
// #include "wspulse/error.hpp"
// #include "wspulse/frame.hpp"

#include <cstddef>
#include <cstring>  // std::memcpy
#include <string>
#include <string_view>
#include <system_error>

namespace wspulse {

/// @defgroup codec Codec requirements
/// A Codec is the first template parameter of `basic_client`: it turns a frame into the bytes of
/// one WebSocket message and back. A type `C` is a Codec when, for `const C c; const frame f;
/// frame g; std::string s; std::string_view v; std::error_code ec;`:
/// - `C::wire` is a `static constexpr wire_type`: the opcode of outbound messages (text frames
///   must carry valid UTF-8: send() checks, and refuses with errc::invalid_payload, unless the
///   codec declares `static constexpr bool valid_utf8 = true`, a promise its encode keeps);
/// - `c.encode(f, s, ec)` writes the message for `f` into `s`, overwriting it. On failure `s` is
///   left empty and `ec` is set (`client::send()` returns it and sends nothing); on success `ec`
///   is cleared;
/// - `c.decode(v, g, ec)` reads one inbound message into `g`, overwriting it. On failure `ec` is
///   set; on success `ec` is cleared. Inbound messages reach `decode` whatever their opcode.
///
/// Both are `const` and safe to call concurrently on one object; they report errors through `ec`
/// and throw nothing but `std::bad_alloc`. `C` is copy- or move-constructible:
/// `options::codec(C)` installs a configured instance (the default is `C{}`).
/// @{

/// The default codec: one JSON object per text message,
/// `{"id":"…","event":"…","payload":<JSON>}`, the wire format of the wspulse server.
///
/// **encode** writes the members in that order and omits empty fields (`frame{}` → `{}`).
/// `id` and `event` become JSON strings: quote and backslash are escaped, control characters
/// (< 0x20) use the short escapes (\\b \\f \\n \\r \\t) or \\u00xx, everything else (multi-byte
/// UTF-8 included) is copied as is.
/// `payload` must be exactly one JSON value (object, array, string, number, `true`, `false` or
/// `null`); it is spliced in as raw JSON, never quoted, with surrounding whitespace trimmed and
/// its inner bytes unchanged. Errors, `errc::invalid_payload` with `out` left empty:
/// - `payload` is not exactly one valid JSON value (also: empty after trimming whitespace,
///   trailing bytes after the value, a number outside the range of a double such as `1e400`,
///   which RapidJSON 1.1.0 refuses, nesting deeper than max_depth);
/// - `id`, `event` or `payload` is not valid UTF-8 (a text frame must be; the server would close
///   with 1007).
///
/// **decode** accepts exactly one JSON object, optionally surrounded by whitespace. `id` and
/// `event` must be strings (`null` is refused); they are unescaped. `payload` may be any JSON
/// value and is kept byte for byte as it appears in the message (`"payload": {"a" : 1 }` →
/// `{"a" : 1 }`, `"payload":"x"` → `"x"` with its quotes, `"payload":null` → `null`). Unknown
/// members are ignored whatever their type or depth; missing ones leave the field empty. When a
/// key repeats, the last occurrence wins. Errors, `errc::decode_failed` with `out` cleared:
/// empty input, invalid or truncated JSON, invalid UTF-8, a top level that is not an object,
/// bytes after the object, a non-string `id`/`event` (or one containing an escaped lone UTF-16
/// surrogate, which has no UTF-8 form), nesting deeper than max_depth.
///
/// decode(encode(f)) == f for every frame encode accepts whose payload has no surrounding
/// whitespace.
///
/// Cost: encode checks the payload in one pass of a hand-written validator (no allocation, no
/// recursion; it accepts exactly what RapidJSON's reader accepts, numbers near the range of a
/// double being handed to RapidJSON itself), then writes the output, allocating its exact size
/// once. decode is one pass of RapidJSON's SAX reader (iterative, so input depth never deepens
/// the call stack) over the message, with no heap allocation besides the output strings while
/// `id`, `event` and top-level member names stay under ~2 KB and nesting under ~250 levels
/// (strings inside the payload or unknown members are checked, not copied, whatever their
/// length, escape sequences aside).
/// This header defines no RapidJSON configuration macro (RAPIDJSON_SSE42, RAPIDJSON_ASSERT, ...):
/// define them globally, for every translation unit, if you want them.
///
/// Thread safety: stateless; any number of threads may use one object.
struct json_codec {
  /// JSON travels in text frames.
  static constexpr wire_type wire = wire_type::text;
  /// encode() refuses what is not valid UTF-8: the client need not check its output again.
  static constexpr bool valid_utf8 = true;

  /// Deepest nesting accepted, the frame object counting as level 1 (so a payload may nest
  /// 9,999 levels): the limit of Go's encoding/json, which the wspulse server uses.
  static constexpr std::size_t max_depth = detail::json_max_depth;

  /// Writes the message for `f` into `out` (overwritten).
  /// @param f   frame to encode
  /// @param out receives the JSON text; left empty on error. Must not be one of `f`'s fields.
  /// @param ec  cleared on success; `errc::invalid_payload` on error (see the type's docs)
  /// @throws std::bad_alloc only
  void encode(const frame& f, std::string& out, std::error_code& ec) const;

  /// Reads one message into `out` (overwritten; its strings' capacity is reused).
  /// @param data message bytes (need not be NUL-terminated); must not point into `out`
  /// @param out  receives id, event and the raw payload text; cleared on error
  /// @param ec   cleared on success; `errc::decode_failed` on error (see the type's docs)
  /// @throws std::bad_alloc only
  void decode(std::string_view data, frame& out, std::error_code& ec) const;
};

/// @}

inline void json_codec::encode(const frame& f, std::string& out, std::error_code& ec) const {
  out.clear();
  std::size_t id_size = 0;
  std::size_t event_size = 0;
  std::string_view payload;
  if (!detail::json_escaped_size(f.id, id_size) ||
      !detail::json_escaped_size(f.event, event_size) ||
      (!f.payload.empty() && !detail::json_validate_payload(f.payload, 1, payload))) {
    ec = make_error_code(errc::invalid_payload);
    return;
  }

  // {"id":"…","event":"…","payload":…}: compute the exact size, allocate once, write in place.
  constexpr std::string_view id_key = "\"id\":\"";
  constexpr std::string_view event_key = "\"event\":\"";
  constexpr std::string_view payload_key = "\"payload\":";
  std::size_t size = 2;                                                   // { }
  if (!f.id.empty()) size += id_key.size() + id_size + 2;                 // ,"id":"…"
  if (!f.event.empty()) size += event_key.size() + event_size + 2;        // ,"event":"…"
  if (!payload.empty()) size += payload_key.size() + payload.size() + 1;  // ,"payload":…
  if (size > 2) --size;  // n members take n - 1 commas
  out.resize(size);

  char* p = &out[0];
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  *p++ = '{';
  if (!f.id.empty()) {
    put(id_key);
    p = detail::json_write_escaped(f.id, p);
    *p++ = '"';
  }
  if (!f.event.empty()) {
    if (p[-1] != '{') *p++ = ',';
    put(event_key);
    p = detail::json_write_escaped(f.event, p);
    *p++ = '"';
  }
  if (!payload.empty()) {
    if (p[-1] != '{') *p++ = ',';
    put(payload_key);
    put(payload);
  }
  *p++ = '}';
  ec.clear();
}

inline void json_codec::decode(std::string_view data, frame& out, std::error_code& ec) const {
  out.id.clear();
  out.event.clear();
  out.payload.clear();
  if (!detail::json_parse_frame(data, out)) {
    out.id.clear();
    out.event.clear();
    out.payload.clear();
    ec = make_error_code(errc::decode_failed);
    return;
  }
  ec.clear();
}

}  // namespace wspulse
// #include "wspulse/logger.hpp"
// wspulse_client — structured logging: the Logger concept, log levels, key/value fields, and the
// provided loggers (json_logger, ostream_logger, null_logger).
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

#include <charconv>  // std::to_chars for numbers (locale-independent)
#include <chrono>    // timestamps
#include <cmath>     // std::isnan, std::isinf
#include <cstddef>
#include <cstdint>
#include <cstdio>   // std::FILE, std::fwrite, stderr
#include <cstring>  // std::memcpy
#include <ctime>    // gmtime_r / gmtime_s for ostream_logger timestamps
#include <initializer_list>
#include <iostream>  // std::clog, the default ostream_logger stream
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace wspulse {

/// Severity of a log record. Loggers drop records below their minimum level.
enum class log_level : std::uint8_t { debug, info, warn, error };

/// Lower-case name of a level, as written by json_logger: "debug", "info", "warn", "error".
constexpr std::string_view to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "unknown";
}

/// One structured key/value pair of a log record.
///
/// Built by brace-initialisation at the call site, e.g.
/// `logger.log(log_level::info, "transport dropped", {{"url", u}, {"code", 1000}, {"ok", true}});`
/// The value may be a `std::string_view`, `const char*` (nullptr logs as ""), `std::string`, any
/// integer type (char types log as their code), `bool`, or a floating-point number. Pointers
/// other than `const char*` are rejected at compile time (they would silently become bool).
///
/// A log_field never allocates and never owns text: key and string values are views. It is
/// valid only for the duration of the `log` call that receives it (temporaries such as
/// `ec.message()` live until the end of that full expression, which is long enough). Loggers
/// that defer output must copy what they need.
class log_field {
 public:
  /// What the value holds; pick the matching accessor.
  enum class kind : std::uint8_t { string, int64, uint64, float64, boolean };

  constexpr log_field(std::string_view key, std::string_view value) noexcept
      : key_(key), kind_(kind::string), str_(value) {}
  constexpr log_field(std::string_view key, const char* value) noexcept
      : key_(key),
        kind_(kind::string),
        str_(value ? std::string_view(value) : std::string_view()) {}
  log_field(std::string_view key, const std::string& value) noexcept
      : key_(key), kind_(kind::string), str_(value) {}
  constexpr log_field(std::string_view key, bool value) noexcept
      : key_(key), kind_(kind::boolean), bool_(value) {}

  /// Any integer type except bool: signed types are stored as int64, unsigned as uint64.
  template <class Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool> &&
                                            std::is_signed_v<Int>,
                                        int> = 0>
  constexpr log_field(std::string_view key, Int value) noexcept
      : key_(key), kind_(kind::int64), int_(static_cast<std::int64_t>(value)) {}
  template <class Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool> &&
                                            std::is_unsigned_v<Int>,
                                        int> = 0>
  constexpr log_field(std::string_view key, Int value) noexcept
      : key_(key), kind_(kind::uint64), uint_(static_cast<std::uint64_t>(value)) {}

  /// float, double, long double (stored as double).
  template <class Float, std::enable_if_t<std::is_floating_point_v<Float>, int> = 0>
  constexpr log_field(std::string_view key, Float value) noexcept
      : key_(key), kind_(kind::float64), double_(static_cast<double>(value)) {}

  // Any other pointer would otherwise convert to bool without a word.
  template <class T>
  log_field(std::string_view key, const T* value) = delete;

  /// The field's key.
  constexpr std::string_view key() const noexcept { return key_; }
  /// Which value the field holds.
  constexpr kind type() const noexcept { return kind_; }
  /// The string value; empty when type() is not kind::string.
  constexpr std::string_view as_string() const noexcept {
    return kind_ == kind::string ? str_ : std::string_view();
  }
  /// The signed value; 0 when type() is not kind::int64.
  constexpr std::int64_t as_int() const noexcept { return kind_ == kind::int64 ? int_ : 0; }
  /// The unsigned value; 0 when type() is not kind::uint64.
  constexpr std::uint64_t as_uint() const noexcept { return kind_ == kind::uint64 ? uint_ : 0; }
  /// The floating-point value; 0 when type() is not kind::float64.
  constexpr double as_double() const noexcept { return kind_ == kind::float64 ? double_ : 0.0; }
  /// The boolean value; false when type() is not kind::boolean.
  constexpr bool as_bool() const noexcept { return kind_ == kind::boolean && bool_; }

  /// Calls `fn` with the value as its own type: std::string_view, std::int64_t, std::uint64_t,
  /// double or bool. Returns what `fn` returns (every overload must return the same type).
  template <class Fn>
  constexpr decltype(auto) visit(Fn&& fn) const {
    switch (kind_) {
      case kind::int64: return std::forward<Fn>(fn)(int_);
      case kind::uint64: return std::forward<Fn>(fn)(uint_);
      case kind::float64: return std::forward<Fn>(fn)(double_);
      case kind::boolean: return std::forward<Fn>(fn)(bool_);
      case kind::string: break;
    }
    return std::forward<Fn>(fn)(str_);
  }

 private:
  std::string_view key_;
  kind kind_;
  union {
    std::string_view str_;
    std::int64_t int_;
    std::uint64_t uint_;
    double double_;
    bool bool_;
  };
};

/// @name The Logger concept
/// A Logger is a type `L` with
/// - `static constexpr bool enabled`: when false, should_log() is a constant false and the
///   client's log statements (`if (should_log(l, lvl)) l.log(...)`, or `if constexpr
///   (L::enabled)`) compile away, arguments included;
/// - `void log(wspulse::log_level, std::string_view message,
///   std::initializer_list<wspulse::log_field> fields)`, const or not. Fields are views valid
///   only during the call;
/// - optionally `bool enabled_for(wspulse::log_level) const noexcept`, which lets the client skip
///   building costly fields (such as a redacted URL) for records that would be dropped.
///
/// The client holds one logger by value (so it must be movable; copyable to go through
/// options) and calls it from its internal I/O thread and from the threads that call the
/// client's public functions: `log` must be thread-safe, and should not throw. URLs and header
/// values reaching a logger have already been passed through redact_url / redact_header.
/// @{

/// True when `L` satisfies the Logger concept (for a static_assert in the client).
template <class L, class = void>
struct is_logger : std::false_type {};
template <class L>
struct is_logger<L,
                 std::void_t<decltype(bool{L::enabled}),
                             decltype(std::declval<L&>().log(log_level::info, std::string_view(),
                                                             std::initializer_list<log_field>{}))>>
    : std::true_type {};
template <class L>
inline constexpr bool is_logger_v = is_logger<L>::value;

namespace detail {
template <class L, class = void>
struct has_enabled_for : std::false_type {};
template <class L>
struct has_enabled_for<
    L, std::void_t<decltype(bool{std::declval<const L&>().enabled_for(log_level::info)})>>
    : std::true_type {};
}  // namespace detail

/// Whether a record at `level` would be written by `logger`: false when `L::enabled` is false,
/// `logger.enabled_for(level)` when `L` has it, true otherwise.
template <class L>
constexpr bool should_log(const L& logger, log_level level) noexcept {
  if constexpr (!L::enabled) {
    (void)logger;
    (void)level;
    return false;
  } else if constexpr (detail::has_enabled_for<L>::value) {
    return logger.enabled_for(level);
  } else {
    (void)logger;
    (void)level;
    return true;
  }
}
/// @}

namespace detail {

// A line is assembled here and written in one call: most lines fit in the inline storage, so
// logging does not allocate; longer ones move to the heap.
class line_buffer {
 public:
  line_buffer() noexcept {}
  line_buffer(const line_buffer&) = delete;
  line_buffer& operator=(const line_buffer&) = delete;

  void append(const char* data, std::size_t n) {
    if (n == 0) return;  // an empty string_view may carry a null pointer: no memcpy with it
    if (!on_heap_ && size_ + n <= sizeof(inline_)) {
      std::memcpy(inline_ + size_, data, n);
      size_ += n;
      return;
    }
    if (!on_heap_) {
      heap_.reserve(2 * (size_ + n));
      heap_.assign(inline_, size_);
      on_heap_ = true;
    }
    heap_.append(data, n);
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) { append(&c, 1); }

  std::string_view view() const noexcept {
    return on_heap_ ? std::string_view(heap_) : std::string_view(inline_, size_);
  }

 private:
  char inline_[512];
  std::size_t size_ = 0;
  bool on_heap_ = false;
  std::string heap_;
};

template <class Int>
void append_integer(line_buffer& out, Int value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// Writes a finite double in the shortest form that reads back exactly. Non-finite values are
// the caller's business (JSON has no spelling for them).
inline void append_finite_double(line_buffer& out, double value) {
  char buf[32];
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
#else
  // Standard libraries without floating-point to_chars: 17 significant digits round-trip.
  int n = std::snprintf(buf, sizeof(buf), "%.17g", value);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) >= sizeof(buf)) n = static_cast<int>(sizeof(buf) - 1);
  for (int i = 0; i < n; ++i) {
    if (buf[i] == ',') buf[i] = '.';  // a locale with a decimal comma
  }
  out.append(buf, static_cast<std::size_t>(n));
#endif
}

// zap's spelling for values JSON cannot hold as numbers.
inline std::string_view non_finite_name(double value) noexcept {
  if (std::isnan(value)) return "NaN";
  return value > 0 ? "+Inf" : "-Inf";
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one
// (overlong forms, surrogates, code points above U+10FFFF, truncated sequences).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  const auto cont = [&](std::size_t k) { return (byte(k) & 0xC0u) == 0x80u; };
  const unsigned b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned b1 = byte(1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // UTF-16 surrogate
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned b1 = byte(1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Appends `s` as a quoted JSON string. Control characters are escaped; bytes that are not valid
// UTF-8 become U+FFFD so every consumer can parse the line.
inline void append_json_string(line_buffer& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes copied verbatim
  std::size_t i = 0;
  const auto flush = [&] { out.append(s.data() + run, i - run); };
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const std::size_t len = utf8_sequence_length(s, i)) {
        i += len;
        continue;
      }
    }
    flush();
    switch (c) {
      case '"': out.append("\\\"", 2); break;
      case '\\': out.append("\\\\", 2); break;
      case '\n': out.append("\\n", 2); break;
      case '\r': out.append("\\r", 2); break;
      case '\t': out.append("\\t", 2); break;
      case '\b': out.append("\\b", 2); break;
      case '\f': out.append("\\f", 2); break;
      default:
        if (c < 0x20) {
          const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
          out.append(esc, sizeof(esc));
        } else {
          out.append("\\ufffd", 6);
        }
    }
    run = ++i;
  }
  flush();
  out.push_back('"');
}

// Human-readable text for ostream_logger: control characters are shown as escapes so one
// record is always one line. With `quote`, the text is wrapped in quotes when it is empty or
// holds a space, a quote, a backslash or a control character (so `key=value` pairs stay
// unambiguous; '=' alone does not need quotes, which keeps redacted URLs readable).
inline void append_text(line_buffer& out, std::string_view s, bool quote) {
  static constexpr char hex[] = "0123456789abcdef";
  bool needs_quotes = false;
  if (quote) {
    needs_quotes = s.empty();
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c <= 0x20 || c == 0x7F || c == '"' || c == '\\') {
        needs_quotes = true;
        break;
      }
    }
  }
  if (needs_quotes) out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F && !(needs_quotes && (c == '"' || c == '\\'))) {
      out.push_back(ch);
      continue;
    }
    switch (c) {
      case '"': out.append("\\\"", 2); break;
      case '\\': out.append("\\\\", 2); break;
      case '\n': out.append("\\n", 2); break;
      case '\r': out.append("\\r", 2); break;
      case '\t': out.append("\\t", 2); break;
      default: {
        const char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xF]};
        out.append(esc, sizeof(esc));
      }
    }
  }
  if (needs_quotes) out.push_back('"');
}

// Every ostream_logger shares this lock: copies of a logger, and loggers created separately on
// the same stream, must not interleave their lines.
inline std::mutex& ostream_logger_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace detail

/// The default logger, modelled on zap's production logger (the Go client's default): one JSON
/// object per line, info and above, on stderr. Example line:
/// `{"level":"info","ts":1732560000.123456,"logger":"wspulse","msg":"transport dropped",`
/// `"url":"ws://h/ws?token=***","code":1000,"reconnect":true}`
///
/// `ts` is seconds since the Unix epoch with microseconds. Strings are JSON-escaped; bytes that
/// are not valid UTF-8 are written as U+FFFD. Non-finite doubles are written as the strings
/// "NaN", "+Inf", "-Inf" (as zap does).
///
/// Thread-safety: `log` is safe to call from any number of threads. Each line is built in a
/// local buffer and handed to the stream with a single `std::fwrite`, which holds the FILE's
/// lock, so lines never interleave. The logger does not flush: stderr is unbuffered; for
/// other streams buffering is the owner's choice. Copyable and movable; copies write to the
/// same FILE, which must outlive them (the logger never closes it).
class json_logger {
 public:
  static constexpr bool enabled = true;

  /// stderr, info and above.
  json_logger() noexcept : out_(stderr) {}
  /// stderr, `min_level` and above.
  explicit json_logger(log_level min_level) noexcept : out_(stderr), min_(min_level) {}
  /// `out` (nullptr: write nothing), `min_level` and above.
  explicit json_logger(std::FILE* out, log_level min_level = log_level::info) noexcept
      : out_(out), min_(min_level) {}

  /// Records below this level are dropped.
  log_level min_level() const noexcept { return min_; }
  /// True when a record at `level` would be written.
  bool enabled_for(log_level level) const noexcept { return out_ != nullptr && level >= min_; }

  /// Writes one line. Never throws (a failed allocation for a very long line drops the line).
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields) const noexcept {
    if (!enabled_for(level)) return;
    try {
      detail::line_buffer line;
      line.append(R"({"level":")");
      line.append(to_string(level));
      line.append(R"(","ts":)");
      append_timestamp(line);
      line.append(R"(,"logger":"wspulse","msg":)");
      detail::append_json_string(line, message);
      for (const log_field& f : fields) {
        line.push_back(',');
        detail::append_json_string(line, f.key());
        line.push_back(':');
        append_value(line, f);
      }
      line.append("}\n", 2);
      const std::string_view text = line.view();
      std::fwrite(text.data(), 1, text.size(), out_);
    } catch (...) {  // std::bad_alloc: losing one log line beats terminating the I/O thread
    }
  }

 private:
  static void append_timestamp(detail::line_buffer& line) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    const long long secs = static_cast<long long>(us / 1000000);
    const long long frac = static_cast<long long>(us % 1000000);
    detail::append_integer(line, secs);
    char digits[7] = {'.', '0', '0', '0', '0', '0', '0'};
    long long rest = frac < 0 ? 0 : frac;
    for (int i = 6; i >= 1; --i, rest /= 10) digits[i] = static_cast<char>('0' + rest % 10);
    line.append(digits, sizeof(digits));
  }

  static void append_value(detail::line_buffer& line, const log_field& f) {
    switch (f.type()) {
      case log_field::kind::string: detail::append_json_string(line, f.as_string()); return;
      case log_field::kind::int64: detail::append_integer(line, f.as_int()); return;
      case log_field::kind::uint64: detail::append_integer(line, f.as_uint()); return;
      case log_field::kind::boolean: line.append(f.as_bool() ? "true" : "false"); return;
      case log_field::kind::float64: {
        const double d = f.as_double();
        if (std::isfinite(d)) {
          detail::append_finite_double(line, d);
        } else {
          detail::append_json_string(line, detail::non_finite_name(d));
        }
        return;
      }
    }
  }

  std::FILE* out_;
  log_level min_ = log_level::info;
};

/// Human-readable lines on a std::ostream (default std::clog), e.g.
/// `2026-11-25T19:50:12.345Z INFO transport dropped url=ws://h/ws?token=*** code=1000`
///
/// The time is UTC with milliseconds; the level is upper case (DEBUG, INFO, WARN, ERROR); then
/// the message and `key=value` pairs. String values that are empty or hold spaces, quotes,
/// backslashes or control characters are quoted; control characters in the message and values
/// are shown as escapes (`\n`, `\x01`), so one record is always one line.
///
/// Thread-safety: `log` may be called from any thread. All ostream_loggers share one mutex and
/// write each line with one `write` followed by a `flush`, so lines never interleave. Copyable
/// and movable; the stream must outlive the logger and its copies, and no one else should write
/// to it unsynchronised while the client runs.
class ostream_logger {
 public:
  static constexpr bool enabled = true;

  /// `os` (default std::clog), `min_level` and above (default info).
  explicit ostream_logger(std::ostream& os = std::clog, log_level min_level = log_level::info)
      : os_(&os), min_(min_level) {}

  /// Records below this level are dropped.
  log_level min_level() const noexcept { return min_; }
  /// True when a record at `level` would be written.
  bool enabled_for(log_level level) const noexcept { return level >= min_; }

  /// Writes one line. Never throws: stream errors and failed allocations drop the line.
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields) const noexcept {
    if (!enabled_for(level)) return;
    try {
      detail::line_buffer line;
      append_time(line);
      line.push_back(' ');
      line.append(upper_name(level));
      line.push_back(' ');
      detail::append_text(line, message, false);
      for (const log_field& f : fields) {
        line.push_back(' ');
        detail::append_text(line, f.key(), false);
        line.push_back('=');
        append_value(line, f);
      }
      line.push_back('\n');
      const std::string_view text = line.view();
      const std::lock_guard<std::mutex> lock(detail::ostream_logger_mutex());
      os_->write(text.data(), static_cast<std::streamsize>(text.size()));
      os_->flush();
    } catch (...) {  // a stream with exceptions() enabled, or std::bad_alloc
    }
  }

 private:
  static std::string_view upper_name(log_level level) noexcept {
    switch (level) {
      case log_level::debug: return "DEBUG";
      case log_level::info: return "INFO";
      case log_level::warn: return "WARN";
      case log_level::error: return "ERROR";
    }
    return "UNKNOWN";
  }

  static void append_time(detail::line_buffer& line) {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
#if defined(_WIN32)
    gmtime_s(&tm, &t);
#else
    gmtime_r(&t, &tm);
#endif
    char buf[32];
    const int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec, static_cast<int>(ms < 0 ? 0 : ms));
    if (n > 0 && static_cast<std::size_t>(n) < sizeof(buf)) {
      line.append(buf, static_cast<std::size_t>(n));
    }
  }

  static void append_value(detail::line_buffer& line, const log_field& f) {
    switch (f.type()) {
      case log_field::kind::string: detail::append_text(line, f.as_string(), true); return;
      case log_field::kind::int64: detail::append_integer(line, f.as_int()); return;
      case log_field::kind::uint64: detail::append_integer(line, f.as_uint()); return;
      case log_field::kind::boolean: line.append(f.as_bool() ? "true" : "false"); return;
      case log_field::kind::float64: {
        const double d = f.as_double();
        if (std::isfinite(d)) {
          detail::append_finite_double(line, d);
        } else {
          line.append(detail::non_finite_name(d));
        }
        return;
      }
    }
  }

  std::ostream* os_;
  log_level min_;
};

/// Discards everything. `enabled` is false, so the client compiles its log statements away;
/// the type is empty, so holding it (`[[no_unique_address]]` / empty base) costs nothing.
struct null_logger {
  static constexpr bool enabled = false;
  /// Does nothing.
  constexpr bool enabled_for(log_level) const noexcept { return false; }
  /// Does nothing.
  void log(log_level, std::string_view, std::initializer_list<log_field>) const noexcept {}
};

}  // namespace wspulse
// #include "wspulse/metrics.hpp"
// wspulse_client — metrics: the Metrics policy (the client's side of the hub's MetricsCollector),
// null_metrics (the default: every call and every measurement compiles away) and
// counting_metrics (atomic counters that any number of clients may share, written out in the
// Prometheus text format by to_prometheus).
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// #include "wspulse/error.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace wspulse {

/// Why a message never reached its destination.
enum class drop_cause : std::uint8_t {
  send_buffer_full,  ///< send() refused it: the send queue was full (send_for: for its timeout)
  decode_failed,     ///< inbound, and the codec could not decode it (or threw)
  too_big,           ///< inbound, over max_message_size: the transport closed with 1009
};

constexpr std::string_view to_string(drop_cause cause) noexcept {
  switch (cause) {
    case drop_cause::send_buffer_full: return "send_buffer_full";
    case drop_cause::decode_failed: return "decode_failed";
    case drop_cause::too_big: return "too_big";
  }
  return "unknown";
}

/// The Metrics policy (basic_client's 7th parameter), a value in the options
/// (options::metrics(m)): copies are made, so let copies share their counters. It is called
///   - on the I/O thread: connection_opened, connection_closed, reconnect_attempt,
///     message_sent, message_received, message_dropped(too_big), heartbeat_failed,
///     pong_received, and send_queue_depth after a write;
///   - on the thread calling send(): message_dropped(send_buffer_full), and send_queue_depth
///     after an accepted frame (so depths from several threads may arrive out of order);
///   - where the callbacks run: message_dropped(decode_failed).
/// Hooks must be thread-safe and must not block; one that throws loses that figure only.
/// `enabled = false` compiles every hook call, and the clock reads behind it, out.
struct null_metrics {
  static constexpr bool enabled = false;
  /// A transport opened; `handshake`: from the dial's start (name lookup, TCP, TLS, upgrade).
  void connection_opened(std::chrono::microseconds /*handshake*/) noexcept {}
  /// An open transport ended after `duration`, for `why` (on_transport_drop's reason).
  void connection_closed(std::chrono::microseconds /*duration*/, const reason& /*why*/) noexcept {}
  /// Redial `attempt` (1 = the first of this outage) starts after `delay`.
  void reconnect_attempt(unsigned /*attempt*/, std::chrono::milliseconds /*delay*/) noexcept {}
  /// A frame of `bytes` (as encoded) was written to the socket.
  void message_sent(std::size_t /*bytes*/) noexcept {}
  /// A message of `bytes` (before decoding) was read.
  void message_received(std::size_t /*bytes*/) noexcept {}
  void message_dropped(drop_cause /*cause*/) noexcept {}
  /// Frames accepted and not yet written, of the send queue's `capacity`.
  void send_queue_depth(std::size_t /*queued*/, std::size_t /*capacity*/) noexcept {}
  /// Nothing arrived for pong_wait: the transport is dropped with heartbeat_timeout.
  void heartbeat_failed() noexcept {}
  /// The pong to the client's ping came back after `round_trip`.
  void pong_received(std::chrono::microseconds /*round_trip*/) noexcept {}
};

namespace detail {
template <class Metrics, class = void>
struct is_metrics_policy : std::false_type {};
template <class Metrics>
struct is_metrics_policy<Metrics, std::void_t<decltype(Metrics::enabled)>> : std::true_type {};

// A close's reason as a metrics label slot: 0 = a clean close, 1.. = a wspulse errc, and one
// slot for every other error category.
inline constexpr std::size_t reason_slots = 24;
inline std::size_t reason_slot(const reason& why) noexcept {
  if (!why) return 0;
  if (why.code.category() != error_category()) return reason_slots - 1;
  const int v = why.code.value();
  return v > 0 && static_cast<std::size_t>(v) < reason_slots - 1 ? static_cast<std::size_t>(v)
                                                                 : reason_slots - 1;
}
}  // namespace detail

/// A ready Metrics type: lock-free counters shared by every copy (one per client, or one for
/// many clients), read with snapshot() and written out with to_prometheus().
class counting_metrics {
 public:
  static constexpr bool enabled = true;
  using slot_counts = std::array<std::uint64_t, detail::reason_slots>;

  /// The figures at one moment (each read on its own: a snapshot under traffic is not atomic).
  struct snapshot {
    std::uint64_t connections_opened = 0;
    std::uint64_t handshake_us_total = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t connected_us_total = 0;
    slot_counts closed_by_reason{};  // index: detail::reason_slot
    std::uint64_t reconnect_attempts = 0;
    std::uint64_t reconnect_delay_ms_total = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t bytes_received = 0;
    std::array<std::uint64_t, 3> dropped{};  // index: drop_cause
    std::uint64_t send_queue_depth = 0;      // the last one reported
    std::uint64_t send_queue_depth_max = 0;
    std::uint64_t send_queue_capacity = 0;
    std::uint64_t heartbeat_failures = 0;
    std::uint64_t pongs = 0;
    std::uint64_t ping_rtt_us_total = 0;
    std::uint64_t ping_rtt_us_last = 0;
    std::uint64_t ping_rtt_us_max = 0;
  };

  snapshot read() const noexcept;

  void connection_opened(std::chrono::microseconds handshake) noexcept {
    add(c_->connections_opened, 1);
    add(c_->handshake_us, count_of(handshake));
  }
  void connection_closed(std::chrono::microseconds duration, const reason& why) noexcept {
    add(c_->connections_closed, 1);
    add(c_->connected_us, count_of(duration));
    add(c_->closed_by_reason[detail::reason_slot(why)], 1);
  }
  void reconnect_attempt(unsigned, std::chrono::milliseconds delay) noexcept {
    add(c_->reconnect_attempts, 1);
    add(c_->reconnect_delay_ms, static_cast<std::uint64_t>(delay.count() < 0 ? 0 : delay.count()));
  }
  void message_sent(std::size_t bytes) noexcept {
    add(c_->messages_sent, 1);
    add(c_->bytes_sent, bytes);
  }
  void message_received(std::size_t bytes) noexcept {
    add(c_->messages_received, 1);
    add(c_->bytes_received, bytes);
  }
  void message_dropped(drop_cause cause) noexcept {
    add(c_->dropped[static_cast<std::size_t>(cause)], 1);
  }
  void send_queue_depth(std::size_t queued, std::size_t capacity) noexcept {
    c_->queue_depth.store(queued, std::memory_order_relaxed);
    c_->queue_capacity.store(capacity, std::memory_order_relaxed);
    raise(c_->queue_depth_max, queued);
  }
  void heartbeat_failed() noexcept { add(c_->heartbeat_failures, 1); }
  void pong_received(std::chrono::microseconds round_trip) noexcept {
    const std::uint64_t us = count_of(round_trip);
    add(c_->pongs, 1);
    add(c_->ping_rtt_us, us);
    c_->ping_rtt_us_last.store(us, std::memory_order_relaxed);
    raise(c_->ping_rtt_us_max, us);
  }

 private:
  using counter = std::atomic<std::uint64_t>;
  struct counters {
    counter connections_opened{0}, handshake_us{0}, connections_closed{0}, connected_us{0};
    std::array<counter, detail::reason_slots> closed_by_reason{};
    counter reconnect_attempts{0}, reconnect_delay_ms{0};
    counter messages_sent{0}, bytes_sent{0}, messages_received{0}, bytes_received{0};
    std::array<counter, 3> dropped{};
    counter queue_depth{0}, queue_depth_max{0}, queue_capacity{0};
    counter heartbeat_failures{0}, pongs{0}, ping_rtt_us{0}, ping_rtt_us_last{0},
        ping_rtt_us_max{0};
  };
  static void add(counter& c, std::uint64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  static void raise(counter& c, std::uint64_t v) noexcept {
    std::uint64_t seen = c.load(std::memory_order_relaxed);
    while (seen < v && !c.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
    }
  }
  template <class Duration>
  static std::uint64_t count_of(Duration d) noexcept {
    return d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
  }

  std::shared_ptr<counters> c_ = std::make_shared<counters>();
};

inline counting_metrics::snapshot counting_metrics::read() const noexcept {
  const auto get = [](const counter& c) { return c.load(std::memory_order_relaxed); };
  snapshot s;
  s.connections_opened = get(c_->connections_opened);
  s.handshake_us_total = get(c_->handshake_us);
  s.connections_closed = get(c_->connections_closed);
  s.connected_us_total = get(c_->connected_us);
  for (std::size_t i = 0; i < s.closed_by_reason.size(); ++i)
    s.closed_by_reason[i] = get(c_->closed_by_reason[i]);
  s.reconnect_attempts = get(c_->reconnect_attempts);
  s.reconnect_delay_ms_total = get(c_->reconnect_delay_ms);
  s.messages_sent = get(c_->messages_sent);
  s.bytes_sent = get(c_->bytes_sent);
  s.messages_received = get(c_->messages_received);
  s.bytes_received = get(c_->bytes_received);
  for (std::size_t i = 0; i < s.dropped.size(); ++i) s.dropped[i] = get(c_->dropped[i]);
  s.send_queue_depth = get(c_->queue_depth);
  s.send_queue_depth_max = get(c_->queue_depth_max);
  s.send_queue_capacity = get(c_->queue_capacity);
  s.heartbeat_failures = get(c_->heartbeat_failures);
  s.pongs = get(c_->pongs);
  s.ping_rtt_us_total = get(c_->ping_rtt_us);
  s.ping_rtt_us_last = get(c_->ping_rtt_us_last);
  s.ping_rtt_us_max = get(c_->ping_rtt_us_max);
  return s;
}

/// The snapshot in the Prometheus text exposition format (0.0.4): counters `<prefix>_…_total`,
/// durations as summaries in seconds (`_sum`, `_count`), closes labelled by reason (the
/// reason's message; "closed" for close()), drops by cause. `prefix` must be a valid metric
/// name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*); it is written as given.
std::string to_prometheus(const counting_metrics::snapshot& s,
                          std::string_view prefix = "wspulse_client");

}  // namespace wspulse

// #include "wspulse/impl/metrics.hpp"
// wspulse_client — to_prometheus (see metrics.hpp).
// SPDX-License-Identifier: MIT

namespace wspulse {
namespace detail {

// Appends `# HELP`/`# TYPE` and the samples of one metric family.
class prometheus_writer {
 public:
  prometheus_writer(std::string& out, std::string_view prefix) : out_(out), prefix_(prefix) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    name_line(name);
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    name_line(name);
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample: `<prefix>_<name>[{<label>="<value>"}] <value>`, the value `units` divided by
  // `per_unit` (a power of ten): integer arithmetic, so no locale changes the decimal point.
  void sample(std::string_view name, std::uint64_t units, std::string_view label = {},
              std::string_view label_value = {}, std::uint64_t per_unit = 1) {
    name_line(name);
    if (!label.empty()) {
      out_ += '{';
      out_ += label;
      out_ += "=\"";
      for (char c : label_value) {  // the format's three escapes
        if (c == '\\' || c == '"') out_ += '\\';
        if (c == '\n') {
          out_ += "\\n";
          continue;
        }
        out_ += c;
      }
      out_ += "\"}";
    }
    out_ += ' ';
    out_ += std::to_string(units / per_unit);
    if (per_unit > 1) {
      std::string fraction = std::to_string(units % per_unit + per_unit);  // "1" + digits
      out_ += '.';
      out_.append(fraction, 1, std::string::npos);
    }
    out_ += '\n';
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "counter", help);
    sample(name, value);
  }
  void gauge(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "gauge", help);
    sample(name, value);
  }
  // A summary without quantiles: a count, and a total of which `per_second` make a second.
  void summary(std::string_view name, std::string_view help, std::uint64_t count,
               std::uint64_t total, std::uint64_t per_second) {
    family(name, "summary", help);
    sample(std::string(name) + "_sum", total, {}, {}, per_second);
    sample(std::string(name) + "_count", count);
  }

 private:
  void name_line(std::string_view name) {
    out_ += prefix_;
    out_ += '_';
    out_ += name;
  }
  std::string& out_;
  std::string_view prefix_;
};

inline std::string reason_label(std::size_t slot) {
  if (slot == 0) return "closed";
  if (slot == reason_slots - 1) return "other";
  return make_error_code(static_cast<errc>(slot)).message();
}

}  // namespace detail

inline std::string to_prometheus(const counting_metrics::snapshot& s, std::string_view prefix) {
  std::string out;
  detail::prometheus_writer w(out, prefix);
  w.counter("connections_opened_total", "Transports opened (first dial and reconnects).",
            s.connections_opened);
  w.summary("handshake_seconds", "Time from a dial's start to the open transport.",
            s.connections_opened, s.handshake_us_total, 1000000);
  w.family("connections_closed_total", "counter", "Open transports that ended, by reason.");
  for (std::size_t i = 0; i < s.closed_by_reason.size(); ++i)
    if (s.closed_by_reason[i] != 0 || i == 0)
      w.sample("connections_closed_total", s.closed_by_reason[i], "reason",
               detail::reason_label(i));
  w.summary("connection_duration_seconds", "How long each ended transport was open.",
            s.connections_closed, s.connected_us_total, 1000000);
  w.summary("reconnect_delay_seconds", "Reconnect attempts and the backoff delay before each.",
            s.reconnect_attempts, s.reconnect_delay_ms_total, 1000);
  w.counter("messages_sent_total", "Frames written to the socket.", s.messages_sent);
  w.counter("sent_bytes_total", "Bytes of the frames written, as encoded.", s.bytes_sent);
  w.counter("messages_received_total", "Messages read.", s.messages_received);
  w.counter("received_bytes_total", "Bytes of the messages read, before decoding.",
            s.bytes_received);
  w.family("messages_dropped_total", "counter", "Messages that never reached their destination.");
  for (drop_cause c :
       {drop_cause::send_buffer_full, drop_cause::decode_failed, drop_cause::too_big})
    w.sample("messages_dropped_total", s.dropped[static_cast<std::size_t>(c)], "cause",
             to_string(c));
  w.gauge("send_queue_depth", "Frames accepted and not yet written (last reported).",
          s.send_queue_depth);
  w.gauge("send_queue_depth_max", "The largest send queue depth reported.", s.send_queue_depth_max);
  w.gauge("send_queue_capacity", "The send queue's capacity in frames.", s.send_queue_capacity);
  w.counter("heartbeat_failures_total", "Transports dropped because nothing arrived for pong_wait.",
            s.heartbeat_failures);
  w.summary("ping_rtt_seconds", "Round trip of the client's pings, to their pong.", s.pongs,
            s.ping_rtt_us_total, 1000000);
  w.gauge("ping_rtt_last_microseconds", "The last ping round trip.", s.ping_rtt_us_last);
  w.gauge("ping_rtt_max_microseconds", "The longest ping round trip.", s.ping_rtt_us_max);
  return out;
}

}  // namespace wspulse
// #include "wspulse/redact.hpp"
// wspulse_client — redaction of secrets (tokens in query strings, credentials in URLs, header
// values) before a URL or a header reaches a logger.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

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
// #include "wspulse/policies.hpp"
// wspulse_client — compile-time policies: reconnect backoff, heartbeat, buffer bounds, where
// callbacks run.
// Policies fix the strategy, the defaults and the ceilings; options may tune values at run
// time within them. Out-of-range template arguments fail with a static_assert naming the rule.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <type_traits>

namespace wspulse {

using std::chrono::milliseconds;

/// The limits of behaviour.md § Limits, shared by static_asserts and option setters.
namespace limits {
inline constexpr std::int64_t max_ping_ms = 60'000;
inline constexpr std::int64_t max_pong_ms = 120'000;
inline constexpr std::int64_t max_write_ms = 30'000;
inline constexpr std::int64_t max_base_delay_ms = 60'000;
inline constexpr std::int64_t max_max_delay_ms = 300'000;
inline constexpr unsigned max_retries = 32;
inline constexpr std::size_t min_send_frames = 1;
inline constexpr std::size_t max_send_frames = 4096;
inline constexpr std::size_t max_message_bytes = std::size_t{64} << 20;
inline constexpr std::size_t max_inbound_bytes = std::size_t{1} << 30;
inline constexpr std::size_t max_pending_requests = 65536;
}  // namespace limits

namespace detail {
/// The wspulse formula's cap: min(base * 2^min(attempt, 62), max), clamping on overflow.
constexpr std::int64_t backoff_ceiling_ms(unsigned attempt, std::int64_t base_ms,
                                          std::int64_t max_ms) noexcept {
  const unsigned shift = attempt < 62 ? attempt : 62;
  if (base_ms > (max_ms >> shift)) return max_ms;  // base << shift would exceed max (or overflow)
  const std::int64_t full = base_ms << shift;
  return full < max_ms ? full : max_ms;
}

/// Uniform integer in [lo, hi] from any UniformRandomBitGenerator.
template <class Rng>
std::int64_t uniform_ms(Rng& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}
}  // namespace detail

/// The wspulse reconnect schedule: delay before attempt `a` is uniform in [full/2, full], where
/// full = min(base * 2^min(a, 62), max). `MaxRetries` 0 = unlimited.
template <unsigned MaxRetries = 0, std::int64_t BaseMs = 1000, std::int64_t MaxMs = 30000>
struct exponential_backoff {
  static_assert(MaxRetries <= limits::max_retries,
                "wspulse: max_retries must be in [0, 32] (0 = unlimited)");
  static_assert(BaseMs > 0 && BaseMs <= limits::max_base_delay_ms,
                "wspulse: base_delay must be in (0, 1 min]");
  static_assert(MaxMs >= BaseMs && MaxMs <= limits::max_max_delay_ms,
                "wspulse: max_delay must be in [base_delay, 5 min]");

  static constexpr bool enabled = true;
  static constexpr unsigned max_retries = MaxRetries;
  static constexpr milliseconds base_delay{BaseMs};
  static constexpr milliseconds max_delay{MaxMs};

  template <class Rng>
  static milliseconds delay(unsigned attempt, milliseconds base, milliseconds max, Rng& rng) {
    const std::int64_t full = detail::backoff_ceiling_ms(attempt, base.count(), max.count());
    return milliseconds{detail::uniform_ms(rng, full / 2, full)};
  }
};

/// AWS "full jitter": uniform in [0, full]; spreads a thundering herd wider than the default.
template <unsigned MaxRetries = 0, std::int64_t BaseMs = 1000, std::int64_t MaxMs = 30000>
struct full_jitter_backoff : exponential_backoff<MaxRetries, BaseMs, MaxMs> {
  template <class Rng>
  static milliseconds delay(unsigned attempt, milliseconds base, milliseconds max, Rng& rng) {
    return milliseconds{
        detail::uniform_ms(rng, 0, detail::backoff_ceiling_ms(attempt, base.count(), max.count()))};
  }
};

/// AWS "decorrelated jitter", made stateless: uniform in [base, min(max, 3 * ceiling(a-1))].
template <unsigned MaxRetries = 0, std::int64_t BaseMs = 1000, std::int64_t MaxMs = 30000>
struct decorrelated_jitter_backoff : exponential_backoff<MaxRetries, BaseMs, MaxMs> {
  template <class Rng>
  static milliseconds delay(unsigned attempt, milliseconds base, milliseconds max, Rng& rng) {
    const std::int64_t prev =
        attempt == 0 ? base.count()
                     : detail::backoff_ceiling_ms(attempt - 1, base.count(), max.count());
    const std::int64_t hi = prev > max.count() / 3 ? max.count() : prev * 3;
    return milliseconds{
        detail::uniform_ms(rng, base.count(), hi < base.count() ? base.count() : hi)};
  }
};

/// Compiles the reconnect machinery out; options::auto_reconnect() does not compile with it.
struct no_reconnect {
  static constexpr bool enabled = false;
  static constexpr unsigned max_retries = 0;
  static constexpr milliseconds base_delay{1000};
  static constexpr milliseconds max_delay{30000};
  template <class Rng>
  static milliseconds delay(unsigned, milliseconds base, milliseconds, Rng&) {
    return base;
  }
};

/// Client-side heartbeat: ping every PingMs; drop when nothing arrived for PongMs; every write
/// must complete within WriteMs.
template <std::int64_t PingMs = 20000, std::int64_t PongMs = 60000, std::int64_t WriteMs = 10000>
struct heartbeat {
  static_assert(PingMs > 0 && PingMs <= limits::max_ping_ms,
                "wspulse: ping_period must be in (0, 1 min]");
  static_assert(PongMs > PingMs && PongMs <= limits::max_pong_ms,
                "wspulse: pong_wait must be in (ping_period, 2 min]");
  static_assert(WriteMs > 0 && WriteMs <= limits::max_write_ms,
                "wspulse: write_wait must be in (0, 30 s]");

  static constexpr bool enabled = true;
  static constexpr milliseconds ping_period{PingMs};
  static constexpr milliseconds pong_wait{PongMs};
  static constexpr milliseconds write_wait{WriteMs};
};

/// Sends no pings and runs no liveness check (server pings are still answered); writes keep
/// their WriteMs deadline.
template <std::int64_t WriteMs = 10000>
struct basic_no_heartbeat {
  static_assert(WriteMs > 0 && WriteMs <= limits::max_write_ms,
                "wspulse: write_wait must be in (0, 30 s]");
  static constexpr bool enabled = false;
  static constexpr milliseconds ping_period{20000};
  static constexpr milliseconds pong_wait{60000};
  static constexpr milliseconds write_wait{WriteMs};
};
using no_heartbeat = basic_no_heartbeat<>;

/// Memory bounds. SendFrames: send queue capacity (fixed). MaxMessageBytes: default inbound
/// message limit (0 = none). InboundFrames and InboundBytes: received messages (count, and
/// payload bytes) that may wait for a slow on_message; when either is reached the client stops
/// reading (TCP back-pressure) until the handler has worked through half of them. One message
/// larger than InboundBytes is still delivered: reading pauses after it. PendingRequests:
/// requests (request()) waiting for their answer at once; one more fails at once with
/// errc::too_many_requests.
template <std::size_t SendFrames = 256, std::size_t MaxMessageBytes = std::size_t{1} << 20,
          std::size_t InboundFrames = 1024, std::size_t InboundBytes = std::size_t{16} << 20,
          std::size_t PendingRequests = 256>
struct buffer_bounds {
  static_assert(SendFrames >= limits::min_send_frames && SendFrames <= limits::max_send_frames,
                "wspulse: the send buffer must hold [1, 4096] frames");
  static_assert(MaxMessageBytes <= limits::max_message_bytes,
                "wspulse: max_message_size must be in [0, 64 MiB] (0 = no limit)");
  static_assert(InboundFrames >= 1, "wspulse: at least one inbound frame must be able to wait");
  static_assert(InboundBytes >= 1 && InboundBytes <= limits::max_inbound_bytes,
                "wspulse: the inbound byte bound must be in [1, 1 GiB]");
  static_assert(PendingRequests >= 1 && PendingRequests <= limits::max_pending_requests,
                "wspulse: the pending request bound must be in [1, 65536]");

  static constexpr std::size_t send_frames = SendFrames;
  static constexpr std::size_t max_message_bytes = MaxMessageBytes;
  static constexpr std::size_t inbound_frames = InboundFrames;
  static constexpr std::size_t inbound_bytes = InboundBytes;
  static constexpr std::size_t pending_requests = PendingRequests;
};

/// Callbacks on a thread of the client's own: a handler may block for seconds and the client
/// still answers pings and keeps writing; inbound frames wait for it in a bounded queue
/// (Bounds::inbound_frames / inbound_bytes), reading pauses when it is full. One extra thread
/// per client, and one hand-off per socket read.
///
/// SpinMicros: after work, the callback thread, and the client's own I/O thread (not an
/// application's io_context), poll for this long before they sleep. A message answered from its
/// handler then crosses the two threads without waking either (a wake-up costs 5-50 us, by
/// machine); the price is up to 2 x SpinMicros of CPU after each burst of traffic. 0: never.
template <unsigned SpinMicros>
struct basic_callback_thread {
  static_assert(SpinMicros <= 10000, "wspulse: spin at most 10 ms before sleeping");
  static constexpr bool runs_inline = false;
  static constexpr std::chrono::microseconds spin{SpinMicros};
};

/// The default Dispatch: callbacks on a thread of the client's own, spinning 50 us.
using callback_thread = basic_callback_thread<50>;

/// Callbacks inline, on the thread running the client's io_context: no thread hop, no queue,
/// no extra thread (many clients on one thread). Handlers must not block: while one runs, no
/// client on that io_context reads, writes or answers a ping.
struct inline_callbacks {
  static constexpr bool runs_inline = true;
};

namespace detail {
template <class Dispatch, class = void>
struct is_dispatch_policy : std::false_type {};
template <class Dispatch>
struct is_dispatch_policy<Dispatch, std::void_t<decltype(Dispatch::runs_inline)>> : std::true_type {
};

/// Dispatch::spin, or no spinning for a Dispatch type that has none.
template <class Dispatch, class = void>
struct spin_of {
  static constexpr std::chrono::microseconds value{0};
};
template <class Dispatch>
struct spin_of<Dispatch, std::void_t<decltype(Dispatch::spin)>> {
  static constexpr std::chrono::microseconds value{Dispatch::spin};
};
}  // namespace detail

namespace detail {
/// Bounds::inbound_bytes, or buffer_bounds' default for a Bounds type written before it existed.
template <class Bounds, class = void>
struct inbound_bytes_of : std::integral_constant<std::size_t, std::size_t{16} << 20> {};
template <class Bounds>
struct inbound_bytes_of<Bounds, std::void_t<decltype(Bounds::inbound_bytes)>>
    : std::integral_constant<std::size_t, Bounds::inbound_bytes> {};

/// Bounds::pending_requests, or buffer_bounds' default for a Bounds type written before it.
template <class Bounds, class = void>
struct pending_requests_of : std::integral_constant<std::size_t, 256> {};
template <class Bounds>
struct pending_requests_of<Bounds, std::void_t<decltype(Bounds::pending_requests)>>
    : std::integral_constant<std::size_t, Bounds::pending_requests> {};
}  // namespace detail

}  // namespace wspulse
// #include "wspulse/options.hpp"
// wspulse_client — run-time options of a client: callbacks and values within the policies.
// Setters validate at once and throw std::invalid_argument("wspulse: …").
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// #include "wspulse/error.hpp"
// #include "wspulse/frame.hpp"
// #include "wspulse/metrics.hpp"
// #include "wspulse/policies.hpp"
// #include "wspulse/detail/proxy_url.hpp"
// wspulse_client — the HTTP CONNECT proxy of options::proxy(): its URL, checked when it is set,
// and its Basic credentials, kept only as the encoded Proxy-Authorization value.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

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
// #include "wspulse/client.hpp"
// wspulse_client — basic_client: connect, send, receive, survive network failures.
// SPDX-License-Identifier: MIT

// #include "wspulse/codec.hpp"
// #include "wspulse/detail/client_core.hpp"
// wspulse_client — the engine behind basic_client. The user-visible handle only owns a
// shared_ptr to it, so the engine outlives a handle destroyed inside its own callback.
//
// Where it runs: on an asio::io_context, either one the engine owns (with one I/O thread), or
// the application's (no thread of its own; the application runs the context on one thread, so
// the context is the engine's strand). Callbacks run by the Dispatch policy: on a callback
// thread of the client's own, or inline on the I/O thread.
//
// Threads and what they touch:
// - any user thread: send(), close(), under mu_ (state_, queue_, pump_posted_); a sender
//   waiting for room sleeps on room_cv_, woken when a write frees slots or the client closes;
// - the I/O thread: everything websocketpp, the timers, tx_ and the other I/O-only fields;
//   every handler it runs holds the engine weakly (or strongly, while it runs);
// - the callback side (the callback thread, or the I/O thread when inline): the user's
//   callbacks (before_reconnect included), the codec's decode, cb_log_url_;
// - a detached thread per host-name lookup (detail/host_lookup.hpp), which touches none of this.
// Callbacks never run under a lock or inside send()/close(); every call into user code is
// guarded against exceptions. Bodies: impl/client_core.hpp (life cycle, send, close),
// impl/client_dial.hpp (dialing, reconnect), impl/client_session.hpp (one open transport),
// impl/client_callbacks.hpp (the callback side).
// SPDX-License-Identifier: MIT

// #include "wspulse/error.hpp"
// #include "wspulse/frame.hpp"
// #include "wspulse/logger.hpp"
// #include "wspulse/metrics.hpp"
// #include "wspulse/options.hpp"
// #include "wspulse/policies.hpp"
// #include "wspulse/redact.hpp"
// #include "wspulse/detail/event_queue.hpp"
// wspulse_client — what the engine tells the user's callbacks, and (callback_thread policy)
// the bounded hand-off from the I/O thread to the callback thread.
// SPDX-License-Identifier: MIT

// #include "wspulse/error.hpp"
// #include "wspulse/options.hpp"
// #include "wspulse/detail/spin.hpp"
// wspulse_client — bounded, adaptive spinning before a thread sleeps (callback_thread policy):
// a spin that finds work saves the wake-up (5-50 us, by machine), one that finds none wastes
// its CPU, so a failed spin makes the next ones rarer.
// SPDX-License-Identifier: MIT

#include <algorithm>
#include <chrono>
#include <thread>

namespace wspulse {
namespace detail {

/// Polls `ready()` for up to `spin`, yielding between polls (the thread we wait for may need
/// this core). True when it was ready in time.
template <class Ready>
bool spin_for(std::chrono::microseconds spin, Ready&& ready) {
  const auto until = std::chrono::steady_clock::now() + spin;
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
}

/// Whether to spin before the next sleep. After a spin that found nothing, the next 1, 2, 4 …
/// 64 sleeps come without one; a spin that found work restores spinning every time. Traffic
/// that answers quickly (request / reply) keeps spinning; a slow stream of frames stops paying.
class spin_gate {
 public:
  bool try_now() noexcept {
    if (skip_left_ == 0) return true;
    --skip_left_;
    return false;
  }
  void found(bool work) noexcept {
    skip_ = work ? 0u : std::min(skip_ == 0 ? 1u : skip_ * 2, 64u);
    skip_left_ = skip_;
  }

 private:
  unsigned skip_ = 0;
  unsigned skip_left_ = 0;
};

}  // namespace detail
}  // namespace wspulse

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

namespace wspulse {
namespace detail {

/// One thing for the callback side to do, in order.
struct event {
  enum class kind : std::uint8_t {
    message,     // data: the raw bytes, transport: where they came from
    dialed,      // the first dial succeeded: the dial's completion runs
    drop,        // why: the transport's cause
    restore,     // a new transport is open
    redial,      // before_reconnect runs; data: the next dial's URL, headers: its headers
    disconnect,  // why: the client's end; the last event
    stop,        // the first dial failed (why): the completion runs; the last event
    call,        // call: what call_after runs (request/ack timers, issue 9 §2)
  } what;
  std::string data;
  reason why;
  std::uint64_t transport{};
  header_list headers{};
  std::function<void()> call{};

  bool last() const noexcept { return what == kind::disconnect || what == kind::stop; }
};

/// The I/O thread's events for the callback thread. Messages are queued without waking the
/// consumer; flush() wakes it once per socket read, however many messages that read carried.
/// Messages waiting here are bounded (frames and payload bytes): the producer pauses reading
/// when push_message says so, and the consumer's handled() says when to resume.
class event_queue {
 public:
  event_queue(std::size_t max_frames, std::size_t max_bytes) noexcept
      : max_frames_(max_frames), max_bytes_(max_bytes) {}

  /// Queues a message. True when reading must pause now (the bound is reached and reading is
  /// not paused yet); handled() will then ask for it to resume.
  bool push_message(std::string&& data, std::uint64_t transport, bool reading_paused) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    bytes_ += data.size();
    ++frames_;
    events_.push_back({event::kind::message, std::move(data), {}, transport});
    unflushed_ = true;
    const bool pause = !reading_paused && (frames_ >= max_frames_ || bytes_ >= max_bytes_);
    resume_wanted_ = resume_wanted_ || pause;
    return pause;
  }

  /// Wakes the consumer if messages came since the last flush.
  void flush() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!unflushed_) return;
      unflushed_ = false;
      ready_.store(true, std::memory_order_release);
    }
    cv_.notify_one();
  }

  /// Queues any other event and wakes the consumer. Nothing is queued after the last event.
  void push(event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = e.last();
      unflushed_ = false;
      events_.push_back(std::move(e));
      ready_.store(true, std::memory_order_release);
    }
    cv_.notify_one();
  }

  /// Consumer: waits for events and moves all of them into `batch` (one wake-up, one lock).
  /// Polls for `spin` first: events that come meanwhile need no wake-up (and the producer's
  /// notify finds no waiter, which costs it no system call).
  void take(std::deque<event>& batch, std::chrono::microseconds spin) {
    if (spin.count() > 0 && !ready_.load(std::memory_order_acquire) && gate_.try_now())
      gate_.found(spin_for(spin, [this] { return ready_.load(std::memory_order_acquire); }));
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !events_.empty(); });
    batch.swap(events_);
    ready_.store(false, std::memory_order_relaxed);
  }

  /// Consumer: `frames` messages of `bytes` were handled. True when reading should resume
  /// (it was paused and the queue drained to half its bounds).
  bool handled(std::size_t frames, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    frames_ -= frames;
    bytes_ -= bytes;
    const bool resume = resume_wanted_ && frames_ <= max_frames_ / 2 && bytes_ <= max_bytes_ / 2;
    resume_wanted_ = resume_wanted_ && !resume;
    return resume;
  }

 private:
  const std::size_t max_frames_;
  const std::size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<event> events_;
  std::atomic<bool> ready_{false};  // events were flushed since the last take (spin target)
  spin_gate gate_;                  // the consumer's only
  std::size_t frames_ = 0;          // messages queued and not yet handled
  std::size_t bytes_ = 0;           // their payload bytes
  bool unflushed_ = false;
  bool resume_wanted_ = false;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/frame_writer.hpp"
// wspulse_client — outbound data frames, prepared by the client itself. websocketpp writes a
// message marked "prepared" as it is (connection::send(message_ptr)); otherwise it copies the
// payload into a second message, validates UTF-8 byte by byte and masks byte by byte (a `% 4`
// per byte). At 16 KiB that costs 43 µs a frame, 86 % of it the UTF-8 check and 15 % the
// masking (bench/micro/send_path.cpp; 0.7 µs here). Here: one copy, masked eight bytes at a time,
// and UTF-8 checked once, on the sender's thread, only for codecs that do not guarantee it.
// SPDX-License-Identifier: MIT

#include <websocketpp/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

namespace wspulse {
namespace detail {

/// Codec::valid_utf8 (true: every text message encode() writes is valid UTF-8), or false.
template <class Codec, class = void>
struct codec_writes_valid_utf8 : std::false_type {};
template <class Codec>
struct codec_writes_valid_utf8<Codec, std::void_t<decltype(Codec::valid_utf8)>>
    : std::bool_constant<Codec::valid_utf8> {};

/// out[i] = in[i] ^ key[i % 4] (key in wire order), eight bytes per step.
inline void mask_into(const char* in, char* out, std::size_t n, std::uint32_t key) noexcept {
  // The key's bytes in memory order are its wire order (websocketpp's extended_header copies
  // them so); the 8-byte mask repeats them, whatever the host's byte order.
  unsigned char key_bytes[4];
  std::memcpy(key_bytes, &key, 4);
  unsigned char wide_bytes[8];
  for (int i = 0; i < 8; ++i) wide_bytes[i] = key_bytes[i % 4];
  std::uint64_t wide = 0;
  std::memcpy(&wide, wide_bytes, 8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, in + i, 8);
    chunk ^= wide;
    std::memcpy(out + i, &chunk, 8);
  }
  for (; i < n; ++i) out[i] = static_cast<char>(in[i] ^ static_cast<char>(key_bytes[i % 4]));
}

/// A client (masked) data frame of `payload`, ready for connection::send(message_ptr).
template <class Message>
std::shared_ptr<Message> prepared_frame(websocketpp::frame::opcode::value opcode,
                                        const std::string& payload, std::uint32_t key) {
  auto out = std::make_shared<Message>(typename Message::con_msg_man_ptr(), opcode, 0);
  std::string& masked = out->get_raw_payload();
  masked.resize(payload.size());
  mask_into(payload.data(), &masked[0], payload.size(), key);
  const websocketpp::frame::basic_header header(opcode, payload.size(), true, true);
  const websocketpp::frame::extended_header extended(payload.size(), key);
  out->set_header(websocketpp::frame::prepare_header(header, extended));
  out->set_opcode(opcode);
  out->set_prepared(true);
  return out;
}

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/json_text.hpp"
// #include "wspulse/detail/send_queue.hpp"
// wspulse_client — the bounded FIFO of encoded outbound frames: a ring of Capacity slots whose
// storage comes in blocks of 16, allocated when first used and then kept (an idle client pays
// nothing, one with a frame or two in flight one block). A slot never moves once allocated, so
// the I/O thread may read a queued frame without the lock while a sender pushes another. A
// frame leaves only once its write completed. Not synchronised: the client guards it with its
// mutex.
// SPDX-License-Identifier: MIT

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace wspulse {
namespace detail {

template <std::size_t Capacity>
class send_queue {
  static constexpr std::size_t block_slots = 16;
  static constexpr std::size_t blocks = (Capacity + block_slots - 1) / block_slots;

 public:
  static constexpr std::size_t capacity = Capacity;

  bool full() const noexcept { return size_ == Capacity; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  /// Precondition: !full().
  void push(std::string&& wire) {
    if (!table_) table_ = std::make_unique<std::unique_ptr<std::string[]>[]>(blocks);
    const std::size_t at = physical(size_);
    auto& block = table_[at / block_slots];
    if (!block) block = std::make_unique<std::string[]>(block_slots);
    block[at % block_slots] = std::move(wire);
    ++size_;
  }

  /// The i-th oldest frame, i < size().
  const std::string& at(std::size_t i) const noexcept { return slot(physical(i)); }

  /// Drops the n oldest frames (their writes completed), releasing their memory.
  void pop(std::size_t n) noexcept {
    for (; n > 0 && size_ > 0; --n, --size_) {
      std::string().swap(slot(head_));
      head_ = head_ + 1 == Capacity ? 0 : head_ + 1;
    }
  }

 private:
  std::size_t physical(std::size_t i) const noexcept {
    const std::size_t at = head_ + i;
    return at < Capacity ? at : at - Capacity;
  }
  std::string& slot(std::size_t at) const noexcept {
    return table_[at / block_slots][at % block_slots];
  }

  std::unique_ptr<std::unique_ptr<std::string[]>[]> table_;  // `blocks` entries, never moved
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/shared_endpoint.hpp"
// wspulse_client — one websocketpp endpoint per io_context, shared by every client on it.
// A websocketpp client endpoint costs ~2.7 KiB (1.1 KiB of handlers and loggers, 1.6 KiB on
// the heap) and holds no per-client state here: host lookups and TLS contexts are the
// client's. Clients on one io_context run on its one thread, so sharing needs no lock.
// Owned by an Asio service, the endpoint lives as long as its io_context: a websocketpp handler
// still queued when the last client goes (it holds the endpoint by raw pointer) never finds it
// gone.
// SPDX-License-Identifier: MIT

// #include "wspulse/version.hpp"
// #include "wspulse/detail/transport.hpp"
// wspulse_client — the websocketpp client configuration the client runs on.
// websocketpp offers no per-write completion callback and no write timeout. Its connection
// calls `transport_con_type::async_write` / `async_read_at_least`, so a transport connection
// derived from Asio's that hides both sees every write start and finish and every read. That
// gives write deadlines, "this frame reached the OS", and liveness, without polling.
// SPDX-License-Identifier: MIT

// #include "wspulse/error.hpp"
// #include "wspulse/detail/asio_check.hpp"
// wspulse_client — checks on the Asio that websocketpp will be built with. Included before any
// Asio or websocketpp header, so a wrong setup stops with a message that names the fix.
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"

// clang-format off: one line per #error reads best in a compiler's output
#ifndef ASIO_STANDALONE
#error \
    "wspulse_client uses standalone Asio: define ASIO_STANDALONE (e.g. -DASIO_STANDALONE, or link the wspulse::client target). Without it websocketpp silently switches to Boost.Asio."
#endif

// Without RTTI (-fno-rtti) Asio must not use typeid; it only detects that through Boost.Config.
#if !defined(ASIO_NO_TYPEID) && !defined(__cpp_rtti) && !defined(__GXX_RTTI) && !defined(_CPPRTTI)
#define ASIO_NO_TYPEID 1
#endif

// g++ 11+ rejects websocketpp 0.8.x in C++20 mode (`~endpoint<connection, config>()`). The
// fixed copies tools/patch_websocketpp.py writes carry a mark; without it, stop here with the fix
// instead of inside websocketpp. Define WSPULSE_CLIENT_NO_WEBSOCKETPP_CHECK if your websocketpp
// is fixed another way.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && __cplusplus > 201703L && \
    !defined(WSPULSE_CLIENT_NO_WEBSOCKETPP_CHECK)
#if __has_include(<websocketpp/wspulse_cxx20_fixed.hpp>)
#include <websocketpp/wspulse_cxx20_fixed.hpp>
#else
#error \
    "wspulse_client: g++ 11+ with C++20 rejects websocketpp 0.8.x's headers. Fix: run `python3 tools/patch_websocketpp.py DIR` (from the wspulse_client repository) once and compile with `-isystem DIR` (before other include paths), or use -std=c++17. The CMake target, the meson dependency and the installed pkg-config file already do this."
#endif
#endif

#include <asio/version.hpp>

// websocketpp 0.8.x uses io_service, expires_from_now and resolver::query, which Asio 1.33
// (Boost 1.87) removed.
#if ASIO_VERSION >= 103300
#error \
    "wspulse_client: this Asio is too new for websocketpp 0.8.x (it removed io_service). Use Asio <= 1.32 (Debian 12: libasio-dev 1.22)."
#endif

#ifdef ASIO_NO_DEPRECATED
#error \
    "wspulse_client: do not define ASIO_NO_DEPRECATED; websocketpp 0.8.x needs Asio's deprecated io_service API."
#endif
// clang-format on
// #include "wspulse/detail/host_lookup.hpp"
// wspulse_client — host-name lookup on a detached thread, one per dial.
// Asio's resolver runs getaddrinfo on one thread per io_context that the io_context joins when
// it is destroyed: a lookup stuck for seconds would then hold dial(), close() and the
// destructor hostage. A detached lookup holds nothing of the client: it posts its result
// through a gate that the client shuts before it goes away; a result nobody waits for is freed.
// The lookup belongs to the client, not to websocketpp's endpoint, which clients on one
// io_context share (detail/shared_endpoint.hpp).
// SPDX-License-Identifier: MIT

// #include "wspulse/detail/start_thread.hpp"
// wspulse_client — every thread the library starts goes through start_thread(), so that the
// failure to get one (near a process's thread limit) takes one path, and tests can provoke it.
// SPDX-License-Identifier: MIT

#include <atomic>
#include <cerrno>
#include <system_error>
#include <thread>
#include <utility>

namespace wspulse {
namespace detail {

/// Test seam: when >= 0, the number of threads start_thread() still starts before it fails
/// as std::thread does when the system refuses one. -1 (the default): never fails.
inline std::atomic<int> thread_start_budget{-1};

template <class Fn>
std::thread start_thread(Fn&& fn) {
  int budget = thread_start_budget.load(std::memory_order_relaxed);
  while (budget > 0 && !thread_start_budget.compare_exchange_weak(budget, budget - 1,
                                                                  std::memory_order_relaxed)) {
  }
  if (budget == 0) {
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            "thread creation refused (test seam)");
  }
  return std::thread(std::forward<Fn>(fn));
}

}  // namespace detail
}  // namespace wspulse

#include <websocketpp/transport/base/endpoint.hpp>  // connect_handler

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <netdb.h>  // getaddrinfo

#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

namespace wspulse {
namespace detail {

// Where a detached lookup posts its result. On an application's io_context the client may be
// gone before a posted result runs: the result runs only while its owner (the client engine)
// can still be locked.
class resolve_gate {
 public:
  resolve_gate(asio::io_context& io, std::weak_ptr<const void> owner)
      : io_(&io), owner_(std::move(owner)) {}
  template <class Handler>
  void post(Handler&& h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (io_ != nullptr) asio::post(*io_, std::forward<Handler>(h));
  }
  void shut() {
    std::lock_guard<std::mutex> lock(mu_);
    io_ = nullptr;
  }
  /// Keeps the owner alive while a result is handed over; empty when it is gone.
  std::shared_ptr<const void> lock_owner() const noexcept { return owner_.lock(); }

 private:
  std::mutex mu_;
  asio::io_context* io_;
  const std::weak_ptr<const void> owner_;
};

struct addrinfo_deleter {
  void operator()(::addrinfo* ai) const noexcept {
    if (ai != nullptr) ::freeaddrinfo(ai);
  }
};
using addrinfo_ptr = std::unique_ptr<::addrinfo, addrinfo_deleter>;

// getaddrinfo's EAI_* codes as the Asio errors its own resolver would report.
inline std::error_code resolve_error(int gai, int saved_errno) {
  switch (gai) {
    case 0: return {};
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
    case EAI_NONAME: return asio::error::host_not_found;
    case EAI_AGAIN: return asio::error::host_not_found_try_again;
    case EAI_SERVICE: return asio::error::service_not_found;
    case EAI_MEMORY: return std::make_error_code(std::errc::not_enough_memory);
    case EAI_SYSTEM: return std::error_code(saved_errno, std::system_category());
    default: return asio::error::no_recovery;
  }
}

/// One client's lookups (one dial at a time), handed back to the endpoint that asked, on the
/// I/O thread. Endpoint: observed_endpoint (detail/transport.hpp), which calls start() from its
/// async_connect and receives the result through resolved().
template <class Endpoint>
class host_lookup {
 public:
  using transport_con_ptr = typename Endpoint::transport_con_ptr;

  host_lookup() = default;
  host_lookup(const host_lookup&) = delete;
  host_lookup& operator=(const host_lookup&) = delete;
  ~host_lookup() {
    if (gate_) gate_->shut();
  }

  /// Who owns this lookup: a result is handed over only while the owner can be locked.
  void set_owner(std::weak_ptr<const void> owner) noexcept { owner_ = std::move(owner); }

  /// Looks up host:port on a thread of its own; the endpoint gets the result, or the error.
  void start(Endpoint& endpoint, transport_con_ptr tcon, websocketpp::transport::connect_handler cb,
             std::string host, std::string port) {
    if (!gate_) gate_ = std::make_shared<resolve_gate>(endpoint.get_io_service(), owner_);
    const std::uint64_t id = ++lookups_;
    pending_.reset(new pending{id, &endpoint, std::move(tcon), std::move(cb), host, port});
    try {
      start_thread([gate = gate_, self = this, id, host = std::move(host), port = std::move(port)] {
        ::addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        hints.ai_flags = AI_ADDRCONFIG;
        ::addrinfo* found = nullptr;
        const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
        auto result = std::make_shared<addrinfo_ptr>(found);
        const std::error_code lookup_ec = resolve_error(gai, errno);
        // Runs on the I/O thread, and only while the owner lives (the gate is shut first).
        gate->post([gate, self, id, result, lookup_ec] {
          if (auto owner = gate->lock_owner()) self->done(id, result->get(), lookup_ec);
        });
      }).detach();
    } catch (const std::system_error& ex) {  // no thread to be had: the dial fails, clearly
      const std::unique_ptr<pending> failed = std::move(pending_);
      failed->cb(ex.code());
    }
  }

  /// Forgets the lookup in flight, if any: its result, whenever it comes, is dropped.
  void cancel() noexcept { pending_.reset(); }

 private:
  struct pending {
    std::uint64_t id;
    Endpoint* endpoint;  // outlives the client (shared_endpoint: as long as its io_context)
    transport_con_ptr tcon;
    websocketpp::transport::connect_handler cb;
    std::string host, port;
  };

  void done(std::uint64_t id, ::addrinfo* found, std::error_code ec) {
    if (!pending_ || pending_->id != id) return;  // abandoned
    const std::unique_ptr<pending> p = std::move(pending_);
    auto results = ec || found == nullptr
                       ? asio::ip::tcp::resolver::results_type()
                       : asio::ip::tcp::resolver::results_type::create(found, p->host, p->port);
    if (!ec && results.empty()) ec = asio::error::host_not_found;
    p->endpoint->resolved(std::move(p->tcon), std::move(p->cb), ec, results);
  }

  std::weak_ptr<const void> owner_;
  std::shared_ptr<resolve_gate> gate_;
  std::unique_ptr<pending> pending_;  // on the heap: most dials need no lookup
  std::uint64_t lookups_ = 0;
};

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/proxy_url.hpp"

#include <websocketpp/client.hpp>
#include <websocketpp/common/network.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/logger/stub.hpp>
#include <websocketpp/transport/asio/endpoint.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#if defined(__linux__)
#include <sys/random.h>  // getrandom
#endif

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace wspulse {
namespace detail {

/// What the client learns from its transport. Called on the I/O thread only.
class transport_observer {
 public:
  /// A write of `data_frames` text/binary messages (and maybe a close frame) starts.
  virtual void on_write_start(std::uint64_t transport, std::size_t data_frames,
                              bool close_frame) = 0;
  /// That write completed (ok) or failed.
  virtual void on_write_done(std::uint64_t transport, std::size_t data_frames, bool ok) = 0;
  /// Bytes arrived (any frame, or part of one).
  virtual void on_bytes_read(std::uint64_t transport) = 0;
  /// websocketpp has handled those bytes (every whole message in them was delivered).
  virtual void on_read_processed(std::uint64_t transport) = 0;
  /// A websocketpp handler of this transport threw: the observer must terminate it.
  virtual void on_handler_threw(std::uint64_t transport, const std::string& what) = 0;

 protected:
  ~transport_observer() = default;
};

// First byte of a frame header: FIN + opcode (client frames are never fragmented here).
inline bool is_data_opcode(unsigned char b) noexcept {
  const unsigned op = b & 0x0Fu;
  return op == 0x1 || op == 0x2;
}
inline bool is_close_opcode(unsigned char b) noexcept { return (b & 0x0Fu) == 0x8; }
inline bool is_pong_opcode(unsigned char b) noexcept { return (b & 0x0Fu) == 0xA; }

/// The inbound limit behind max_message_size(0) ("no limit"): websocketpp reserves a message's
/// declared length up front, so a header declaring 2^63 bytes would throw instead of failing
/// cleanly. Above this a message is refused as message_too_big (close 1009) whatever the limit.
inline constexpr std::size_t no_limit_message_ceiling = std::size_t{1} << 30;

// websocketpp's _htonll initialises a plain static on first use: two I/O threads touching it
// first at once race. Running it once under a magic static, before any I/O thread starts,
// makes every later use a read that happens after the write.
inline void prime_websocketpp_statics() {
  static const bool primed = (websocketpp::lib::net::_htonll(0), true);
  (void)primed;
}

template <class config>
class observed_endpoint;

template <class config>
class observed_connection : public websocketpp::transport::asio::connection<config> {
  using base = websocketpp::transport::asio::connection<config>;

 public:
  using type = observed_connection<config>;
  using ptr = websocketpp::lib::shared_ptr<type>;
  using write_handler = websocketpp::transport::write_handler;
  using read_handler = websocketpp::transport::read_handler;

  observed_connection(bool is_server,
                      const websocketpp::lib::shared_ptr<typename config::alog_type>& alog,
                      const websocketpp::lib::shared_ptr<typename config::elog_type>& elog)
      : base(is_server, alog, elog) {}

  void observe(transport_observer* observer, std::uint64_t transport) noexcept {
    observer_ = observer;
    transport_ = transport;
  }

  /// Where this connection's host name is looked up: the dialing client's (set per dial).
  void set_lookup(host_lookup<observed_endpoint<config>>* lookup) noexcept { lookup_ = lookup; }
  host_lookup<observed_endpoint<config>>* lookup() const noexcept { return lookup_; }

  // ---- HTTP CONNECT proxy (issue 9 §4) ----
  /// Dial through this proxy (the endpoint connects TCP to it and opens the tunnel).
  void set_tunnel(const proxy_settings& proxy) { tunnel_ = proxy; }
  const proxy_settings* tunnel() const noexcept { return tunnel_ ? &*tunnel_ : nullptr; }
  /// Why the tunnel could not be opened (the reason of the failed dial); empty when it was.
  const std::optional<reason>& tunnel_refusal() const noexcept { return tunnel_refusal_; }

  /// Records why the tunnel failed and returns the error to end the dial with.
  std::error_code tunnel_failed(std::string what, std::error_code ec, int status = 0) {
    reason why(status != 0 ? errc::handshake_rejected : errc::connection_lost);
    why.http_status = status;
    why.detail = "proxy " + tunnel_->display + ": " + what;
    tunnel_refusal_ = std::move(why);
    return ec;
  }

  /// Writes CONNECT authority, reads the proxy's answer (bounded), then calls done: {} once the
  /// tunnel is open (2xx), an error otherwise (see tunnel_refusal()).
  void open_tunnel(const std::string& authority, websocketpp::transport::connect_handler done) {
    tunnel_io_ = std::make_shared<tunnel_io>();
    tunnel_io_->request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (!tunnel_->authorization.empty())
      tunnel_io_->request += "Proxy-Authorization: " + tunnel_->authorization + "\r\n";
    tunnel_io_->request += "\r\n";
    asio::async_write(
        this->get_next_layer(), asio::buffer(tunnel_io_->request),
        [this, self = this->get_shared(), done](const std::error_code& ec, std::size_t) {
          if (ec) return done(tunnel_failed("cannot send CONNECT: " + ec.message(), ec));
          asio::async_read_until(
              this->get_next_layer(), tunnel_io_->reply, "\r\n\r\n",
              [this, self, done](const std::error_code& read_ec, std::size_t header_bytes) {
                done(tunnel_answered(read_ec, header_bytes));
              });
        });
  }

  /// How answer_ping() writes a pong (the websocketpp connection derived from this one).
  void set_pong_sender(std::function<void(const std::string&)> send) {
    send_pong_ = std::move(send);
  }

  // RFC 6455 § 5.5.3 lets an endpoint answer only the most recent of several pings. At most one
  // pong is queued or being written; pings arriving meanwhile leave only their latest payload,
  // answered when that pong is written. A server flooding pings while not reading would
  // otherwise make websocketpp queue one pong per ping without bound.
  void answer_ping(std::string payload) {
    if (pong_outstanding_) {
      latest_ping_ = std::move(payload);
      ping_unanswered_ = true;
      return;
    }
    pong_outstanding_ = true;
    send_pong_(payload);
  }

  // The opening handshake: one plain buffer.
  void async_write(const char* buf, std::size_t len, write_handler handler) {
    base::async_write(buf, len, std::move(handler));
  }

  // Frames: websocketpp pushes a header buffer and a payload buffer per message.
  void async_write(const std::vector<websocketpp::transport::buffer>& bufs, write_handler handler) {
    if (observer_ == nullptr) return base::async_write(bufs, std::move(handler));
    std::size_t data = 0;
    bool close = false;
    bool pong = false;
    for (std::size_t i = 0; i < bufs.size(); i += 2) {
      if (bufs[i].len == 0) continue;
      const auto first = static_cast<unsigned char>(bufs[i].buf[0]);
      data += is_data_opcode(first) ? 1 : 0;
      close = close || is_close_opcode(first);
      pong = pong || is_pong_opcode(first);
    }
    observer_->on_write_start(transport_, data, close);
    base::async_write(bufs, [this, self = this->get_shared(), data, pong,
                             handler = std::move(handler)](const std::error_code& ec) {
      if (observer_ != nullptr) observer_->on_write_done(transport_, data, !ec);
      if (pong && !ec) pong_written();  // queues the next pong; the handler then writes it
      run_guarded(handler, ec);
    });
  }

  // websocketpp 0.8.2's resume_reading() starts a read even when one issued before
  // pause_reading() is still pending: two reads into one buffer corrupt the stream. The client
  // pauses only from inside the read loop (no read pending then), but a pending read continues
  // the frame loop itself when it completes, so dropping a second request is always safe.
  void async_read_at_least(std::size_t num_bytes, char* buf, std::size_t len,
                           read_handler handler) {
    if (read_pending_) return;
    read_pending_ = true;
    base::async_read_at_least(num_bytes, buf, len,
                              [this, self = this->get_shared(), handler = std::move(handler)](
                                  const std::error_code& ec, std::size_t n) {
                                read_pending_ = false;
                                if (n > 0 && observer_ != nullptr)
                                  observer_->on_bytes_read(transport_);
                                run_guarded(handler, ec, n);
                                if (observer_ != nullptr) observer_->on_read_processed(transport_);
                              });
  }

 private:
  struct tunnel_io {
    std::string request;
    asio::streambuf reply{16 * 1024};  // a proxy's answer header larger than this is refused
  };

  std::error_code tunnel_answered(const std::error_code& ec, std::size_t header_bytes) {
    const auto failed = websocketpp::transport::asio::error::make_error_code(
        websocketpp::transport::asio::error::proxy_failed);
    if (ec == asio::error::operation_aborted) return ec;  // abandoned (handshake_timeout)
    if (ec == asio::error::not_found) return tunnel_failed("answer header too large", failed);
    if (ec) return tunnel_failed("no answer to CONNECT: " + ec.message(), ec);
    const char* data = static_cast<const char*>(tunnel_io_->reply.data().data());
    const std::string head(data, header_bytes);
    const bool extra = tunnel_io_->reply.size() > header_bytes;
    tunnel_io_.reset();
    // "HTTP/1.x SSS text"
    const std::string line = head.substr(0, head.find("\r\n"));
    const std::size_t sp = line.find(' ');
    int status = 0;
    if (line.compare(0, 7, "HTTP/1.") == 0 && sp != std::string::npos && sp + 4 <= line.size() &&
        (sp + 4 == line.size() || line[sp + 4] == ' ')) {
      for (std::size_t i = sp + 1; i < sp + 4; ++i)
        status = line[i] >= '0' && line[i] <= '9' ? status * 10 + (line[i] - '0') : -1000;
    }
    if (status < 100) return tunnel_failed("malformed answer to CONNECT", failed);
    if (status / 100 != 2)
      return tunnel_failed("refused the tunnel: " + line.substr(sp + 1), failed, status);
    if (extra) return tunnel_failed("sent data before the tunnel opened", failed);
    return {};
  }

  void pong_written() {
    pong_outstanding_ = false;
    if (!ping_unanswered_) return;
    ping_unanswered_ = false;
    answer_ping(std::move(latest_ping_));
  }

  // websocketpp's read and write handlers run the frame parser and the user's message handler.
  // One that throws (e.g. std::length_error, bad_alloc) would unwind through io_context::run()
  // and leave this connection's read loop dead, unable to end: the observer is told instead,
  // and terminates the connection at once.
  template <class Handler, class... Args>
  void run_guarded(const Handler& handler, const Args&... args) {
    std::string what;
    try {
      handler(args...);
      return;
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
      what = "unknown exception";
    }
    if (observer_ != nullptr) observer_->on_handler_threw(transport_, what);
  }

  transport_observer* observer_ = nullptr;
  std::uint64_t transport_ = 0;
  host_lookup<observed_endpoint<config>>* lookup_ = nullptr;
  bool read_pending_ = false;
  std::function<void(const std::string&)> send_pong_;
  bool pong_outstanding_ = false;
  bool ping_unanswered_ = false;
  std::string latest_ping_;
  std::optional<proxy_settings> tunnel_;
  std::optional<reason> tunnel_refusal_;
  std::shared_ptr<tunnel_io> tunnel_io_;  // the CONNECT exchange, while it runs
};

/// Makes `con` answer pings through observed_connection::answer_ping (latest ping only).
template <class Connection>
void answer_latest_ping_only(Connection& con) {
  con.set_pong_sender([&con](const std::string& payload) {
    std::error_code ignored;  // fails only when the connection is already closing
    con.pong(payload, ignored);
  });
  con.set_ping_handler([&con](websocketpp::connection_hdl, std::string payload) {
    con.answer_ping(std::move(payload));
    return false;  // answered here, not by websocketpp
  });
}

/// Why the server's close frame was malformed, or empty when it was well-formed (or none came).
/// websocketpp answers a malformed close (1-byte payload, a code that may not be sent, a reason
/// that is not UTF-8) with its own 1002 and reason; a valid close it echoes, code and reason.
template <class Connection>
std::string malformed_server_close(const Connection& con) {
  namespace status = websocketpp::close::status;
  const status::value remote = con.get_remote_close_code();
  if (con.get_local_close_code() != status::protocol_error ||
      con.get_local_close_reason() == con.get_remote_close_reason())
    return std::string();
  if (!websocketpp::utf8_validator::validate(con.get_remote_close_reason()))
    return "malformed close frame from the server: its reason is not valid UTF-8";
  if (remote == status::protocol_error)  // what websocketpp records for a 1-byte payload
    return "malformed close frame from the server: a 1-byte payload has no room for a code";
  return "malformed close frame from the server: close code " + std::to_string(remote) +
         " may not be sent";
}

template <class config>
class observed_endpoint : public websocketpp::transport::asio::endpoint<config> {
  using base = websocketpp::transport::asio::endpoint<config>;

 public:
  using transport_con_type = observed_connection<config>;
  using transport_con_ptr = typename transport_con_type::ptr;
  using lookup_type = host_lookup<observed_endpoint>;

  // websocketpp's own resolve and connect steps arm timers that an aborted connect leaves
  // armed (330 s here): an abandoned dial would keep the application's io_context busy. These
  // arm none; the client bounds the dial (handshake_timeout) and cancels the socket.
  void async_connect(transport_con_ptr tcon, websocketpp::uri_ptr u,
                     websocketpp::transport::connect_handler cb) {
    tcon->set_uri(u);
    std::string host = u->get_host();
    std::string port = u->get_port_str();
    if (const proxy_settings* proxy = tcon->tunnel()) {  // HTTP proxy (issue 9 §4)
      // TCP goes to the proxy (its name looked up like any other, below); once connected, the
      // tunnel opens before websocketpp starts (TLS and the upgrade then run inside it).
      host = proxy->host;
      port = proxy->port;
      cb = [tcon, authority = u->get_authority(), cb = std::move(cb)](const std::error_code& ec) {
        if (ec) return cb(tcon->tunnel_failed(ec.message(), ec));
        tcon->open_tunnel(authority, cb);
      };
    }
    const bool bracketed = host.size() > 1 && host.front() == '[';
    if (bracketed) host = host.substr(1, host.size() - 2);
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {  // an IP literal needs no lookup
      return resolved(
          std::move(tcon), std::move(cb), std::error_code(),
          asio::ip::tcp::resolver::results_type::create(
              asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(std::stoul(port))), host,
              port));
    }
    lookup_type* lookup = tcon->lookup();
    if (lookup == nullptr) return cb(asio::error::host_not_found);  // set by every dial
    lookup->start(*this, std::move(tcon), std::move(cb), std::move(host), std::move(port));
  }

  /// A lookup's outcome (host_lookup, on the I/O thread): connect to the first address that
  /// accepts. An abandoned connect (its socket cancelled) calls nothing.
  void resolved(transport_con_ptr tcon, websocketpp::transport::connect_handler cb,
                const std::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
    if (ec) return cb(ec);
    auto& socket = tcon->get_raw_socket();
    asio::async_connect(socket, results,
                        [tcon = std::move(tcon), cb = std::move(cb)](
                            const std::error_code& connect_ec, const asio::ip::tcp::endpoint&) {
                          if (connect_ec == asio::error::operation_aborted) return;
                          cb(connect_ec);
                        });
  }
};

/// Masking keys (RFC 6455 § 5.3: unpredictable, from a strong entropy source) drawn from the
/// OS in blocks of 64. websocketpp's default asks std::random_device once per frame, which
/// costs 1-25 µs depending on the machine (0.9 µs measured by bench/micro/send_path.cpp, 10-25
/// µs on a loaded VM, where it capped a client at ~35k frames/s). One per io_context
/// (shared_endpoint), used on its one I/O thread.
class masking_key_source {
 public:
  using int_type = std::uint32_t;
  int_type operator()() {
    if (next_ == keys_.size()) refill();
    return keys_[next_++];
  }

 private:
  void refill() {
#if defined(__linux__)
    auto* out = reinterpret_cast<unsigned char*>(keys_.data());
    std::size_t filled = 0;
    while (filled < sizeof(keys_)) {
      const ssize_t n = ::getrandom(out + filled, sizeof(keys_) - filled, 0);
      if (n > 0)
        filled += static_cast<std::size_t>(n);
      else if (errno != EINTR)
        break;
    }
    if (filled == sizeof(keys_)) {
      next_ = 0;
      return;
    }
#endif
    std::random_device device;  // portable fallback
    for (auto& k : keys_) k = device();
    next_ = 0;
  }

  std::array<int_type, 64> keys_{};
  std::size_t next_ = keys_.size();
};

/// Client configuration over a websocketpp socket policy (plain TCP or TLS): single-threaded
/// I/O (no strands, no locks), silent websocketpp logs, timeouts enforced by the client itself.
template <class SocketEndpoint>
struct observed_client_config : websocketpp::config::core_client {
  using type = observed_client_config<SocketEndpoint>;
  using base = websocketpp::config::core_client;

  using concurrency_type = websocketpp::concurrency::none;
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  using request_type = base::request_type;
  using response_type = base::response_type;
  using message_type = base::message_type;
  using con_msg_manager_type = base::con_msg_manager_type;
  using endpoint_msg_manager_type = base::endpoint_msg_manager_type;
  using rng_type = masking_key_source;

  static const bool enable_multithreading = false;
  // The client arms its own handshake and write deadlines; websocketpp's stay out of the way.
  // The close handshake's is set per connection to write_wait (set_close_handshake_timeout).
  static const long timeout_open_handshake = 0;
  static const long timeout_close_handshake = 0;
  static const long timeout_pong = 0;

  struct transport_config : base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = SocketEndpoint;
    static const bool enable_multithreading = false;
    // The client enforces handshake_timeout over the whole dial, and an abandoned dial must
    // leave nothing armed on the io_context: 0 turns websocketpp's post-init (TLS handshake)
    // timer off; the lookup and connect are observed_endpoint's own, without timers; pre-init
    // and proxy timers are never armed.
    static const long timeout_socket_pre_init = 0;
    static const long timeout_proxy = 0;
    static const long timeout_socket_post_init = 0;
    static const long timeout_dns_resolve = 0;
    static const long timeout_connect = 0;
    static const long timeout_socket_shutdown = 5000;
  };

  using transport_type = observed_endpoint<transport_config>;
};

using plain_client_config =
    observed_client_config<websocketpp::transport::asio::basic_socket::endpoint>;
using plain_endpoint = websocketpp::client<plain_client_config>;

}  // namespace detail
}  // namespace wspulse

#include <asio/io_context.hpp>

namespace wspulse {
namespace detail {

template <class Endpoint>
class shared_endpoint final : public asio::io_context::service {
 public:
  static inline asio::io_context::id id;  // the service's key (works without RTTI)

  explicit shared_endpoint(asio::io_context& io) : asio::io_context::service(io) {
    endpoint_.init_asio(&io);
    endpoint_.set_user_agent("wspulse-client-cpp/" WSPULSE_CLIENT_VERSION_STRING);
  }

  /// The io_context's service (created with the first client on it).
  static shared_endpoint& of(asio::io_context& io) {
    return asio::use_service<shared_endpoint>(io);
  }
  Endpoint& endpoint() noexcept { return endpoint_; }
  /// Masking keys for the frames the clients prepare (frame_writer), drawn from the OS in blocks.
  masking_key_source& keys() noexcept { return keys_; }

 private:
  void shutdown() override {}

  Endpoint endpoint_;
  masking_key_source keys_;
};

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/spin.hpp"
// #include "wspulse/detail/start_thread.hpp"
// #include "wspulse/detail/transport.hpp"
// #include "wspulse/detail/tls.hpp"
// wspulse_client — wss:// transport (only with WSPULSE_CLIENT_ENABLE_TLS): websocketpp's TLS
// socket with two fixes. SNI carries host names only (RFC 6066 forbids IP literals, which
// websocketpp 0.8.2 sends anyway), and the real cause of a failed handshake (verification,
// protocol version, the server's alert) is recorded, since websocketpp reports only "TLS
// handshake failed".
// SPDX-License-Identifier: MIT

#ifdef WSPULSE_CLIENT_ENABLE_TLS

// #include "wspulse/detail/transport.hpp"

#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <websocketpp/transport/asio/security/tls.hpp>

#include <memory>
#include <string>
#include <utility>

namespace wspulse {
namespace detail {

inline bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  const std::string bare =
      host.size() > 1 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
  asio::ip::make_address(bare, ec);
  return !ec;
}

class sni_tls_connection : public websocketpp::transport::asio::tls_socket::connection {
  using base = websocketpp::transport::asio::tls_socket::connection;

 public:
  using type = sni_tls_connection;
  using ptr = websocketpp::lib::shared_ptr<type>;

  /// Host to name in SNI; empty (an IP literal) sends no SNI.
  void set_sni_host(std::string host) { sni_host_ = std::move(host); }

 protected:
  // Hides websocketpp's pre_init (the transport connection derived from this calls it), which always sends the URI host as SNI.
  void pre_init(websocketpp::transport::init_handler callback) {
    if (!sni_host_.empty() &&
        SSL_set_tlsext_host_name(get_socket().native_handle(), sni_host_.c_str()) != 1) {
      return callback(websocketpp::transport::asio::socket::make_error_code(
          websocketpp::transport::asio::socket::error::tls_failed_sni_hostname));
    }
    callback(websocketpp::lib::error_code());
  }

 private:
  std::string sni_host_;
};

class sni_tls_endpoint : public websocketpp::transport::asio::tls_socket::endpoint {
 public:
  using socket_con_type = sni_tls_connection;
  using socket_con_ptr = sni_tls_connection::ptr;
};

using tls_client_config = observed_client_config<sni_tls_endpoint>;
using tls_endpoint = websocketpp::client<tls_client_config>;

// Index of the SSL_CTX slot that holds the failure text (asio uses the app-data slot). The
// slot owns a shared_ptr to it, freed with the context.
inline int tls_failure_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::shared_ptr<std::string>*>(ptr);
      });
  return slot;
}

// The failure text of the dial `ssl` belongs to (nullptr when none is attached).
inline std::string* tls_failure_of(const SSL* ssl) {
  auto* slot = static_cast<std::shared_ptr<std::string>*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_failure_slot()));
  return slot == nullptr ? nullptr : slot->get();
}

// Alerts say why a handshake failed when no certificate check did: a protocol version refused
// either way (the client never accepts TLS < 1.2), or any other fatal alert from the server.
// The first cause recorded wins.
inline void record_tls_alert(const SSL* ssl, int where, int value) {
  if (!(where & SSL_CB_ALERT) || (value >> 8) != SSL3_AL_FATAL) return;
  std::string* failure = tls_failure_of(ssl);
  if (failure == nullptr || !failure->empty()) return;
  const bool protocol_version = (value & 0xff) == SSL_AD_PROTOCOL_VERSION;
  if (where & SSL_CB_WRITE) {
    if (protocol_version)
      *failure = "protocol version refused: the server offered TLS older than 1.2";
  } else if (protocol_version) {
    *failure = "protocol version refused: the server supports neither TLS 1.2 nor TLS 1.3";
  } else {
    *failure =
        std::string("the server refused the TLS session: ") + SSL_alert_desc_string_long(value);
  }
}

// Called only when the server asks for a client certificate and none is set. Under TLS 1.3 the
// server refuses it after the client's handshake is done, often by closing without an alert:
// this note is then the only trace of the cause. Sends no certificate.
inline int note_client_cert_request(SSL* ssl, X509**, EVP_PKEY**) {
  std::string* failure = tls_failure_of(ssl);
  if (failure != nullptr && failure->empty())
    *failure = "the server asks for a client certificate and none is set (tls_client_cert)";
  return 0;
}

/// The TLS context of one dial: TLS 1.2 or newer; peer and host-name verification unless
/// turned off; the client certificate if one is set. The first cause of a failure (a file that
/// cannot be used, a failed verification, a refused protocol version, an alert from the server)
/// is written to *failure; a context that cannot be built is returned empty.
template <class Options>
std::shared_ptr<asio::ssl::context> make_tls_context(const std::string& host, const Options& opts,
                                                     std::shared_ptr<std::string> failure) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_ex_data(ctx->native_handle(), tls_failure_slot(),
                      new std::shared_ptr<std::string>(failure));
  SSL_CTX_set_info_callback(ctx->native_handle(), record_tls_alert);

  // Files: a missing or unreadable one fails the dial with a reason that names it.
  const auto use_file = [&](const char* what, const std::string& path, auto&& load) {
    std::error_code ec;
    load(ec);
    if (ec) *failure = std::string("cannot use ") + what + " '" + path + "': " + ec.message();
    return !ec;
  };
  const std::string& cert = opts.tls_client_cert_file();
  const std::string& key = opts.tls_client_key_file();
  if (cert.empty()) {
    SSL_CTX_set_client_cert_cb(ctx->native_handle(), note_client_cert_request);
  } else if (!use_file("client certificate file", cert,
                       [&](std::error_code& ec) { ctx->use_certificate_chain_file(cert, ec); }) ||
             !use_file("client key file", key, [&](std::error_code& ec) {
               // OpenSSL also refuses a key that does not match the certificate here.
               ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
             })) {
    return nullptr;
  }

  if (!opts.tls_verify()) {
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  const std::string& ca_file = opts.tls_ca_file();
  if (ca_file.empty()) {
    std::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) {
      *failure = "cannot use the system's CA certificates: " + ec.message();
      return nullptr;
    }
  } else if (!use_file("CA file", ca_file,
                       [&](std::error_code& ec) { ctx->load_verify_file(ca_file, ec); })) {
    return nullptr;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  const std::string bare =
      host.size() > 1 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
  ctx->set_verify_callback([check = asio::ssl::host_name_verification(bare), failure](
                               bool preverified, asio::ssl::verify_context& vc) {
    const bool ok = check(preverified, vc);
    if (!ok && failure->empty()) {
      X509_STORE_CTX* store = vc.native_handle();
      const int err = X509_STORE_CTX_get_error(store);
      *failure = err != X509_V_OK ? X509_verify_cert_error_string(err)
                                  : "certificate does not match the host name";
    }
    return ok;
  });
  return ctx;
}

}  // namespace detail
}  // namespace wspulse

#endif  // WSPULSE_CLIENT_ENABLE_TLS
// #include "wspulse/detail/url.hpp"
// wspulse_client — dial URL checks: scheme mapping and the errors reported before any I/O.
// SPDX-License-Identifier: MIT

// #include "wspulse/error.hpp"

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

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace wspulse {
namespace detail {

enum class client_state : std::uint8_t { connecting, connected, reconnecting, closing, closed };

/// What basic_client needs of an engine, whichever transport (ws:// or wss://) it runs.
class core_interface {
 public:
  /// The first dial's outcome: an engine on success, the reason and no engine on failure.
  using dial_completion = std::function<void(reason, std::shared_ptr<core_interface>)>;
  virtual ~core_interface() = default;
  /// Starts the threads and the first dial; `completion` runs on the callback side with its
  /// outcome. A reason here (no thread could be started) means: nothing runs, no completion.
  virtual reason start(dial_completion completion) = 0;
  /// The blocking dial from a thread that may wait: start() and wait for the outcome. On
  /// failure every thread has stopped when this returns, and no callback ran.
  virtual reason run_first_dial() = 0;
  /// Queues f, waiting at most `wait` for room in the send queue (0: never waits).
  virtual std::error_code send(const frame& f, std::chrono::milliseconds wait) = 0;
  /// Starts closing; waits for the end unless called on a thread of the client's own.
  virtual void close() = 0;
  /// Starts closing; `then` runs once the client is done (after on_disconnect).
  virtual void async_close(std::function<void()> then) = 0;
  virtual std::shared_future<void> done() const = 0;
  virtual bool connected() const noexcept = 0;
  // request/ack hook (issue 9 §2): runs fn where callbacks run, in order with them, once
  // `delay` has passed; never once the client finished.
  virtual void call_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds, class Dispatch,
          class Metrics, class Endpoint>
class client_core final
    : public core_interface,
      public transport_observer,
      public std::enable_shared_from_this<
          client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics, Endpoint>> {
 public:
  using options_type = basic_options<Codec, Logger, Backoff, Heartbeat, Bounds, Metrics>;

  /// `io` null: the engine owns its io_context and I/O thread.
  client_core(dial_url url, options_type opts, asio::io_context* io);
  ~client_core();
  client_core(const client_core&) = delete;
  client_core& operator=(const client_core&) = delete;

  reason start(dial_completion completion) override;
  reason run_first_dial() override;
  std::error_code send(const frame& f, std::chrono::milliseconds wait) override;
  void close() override;
  void async_close(std::function<void()> then) override;
  std::shared_future<void> done() const override { return done_; }
  bool connected() const noexcept override { return connected_.load(std::memory_order_acquire); }
  void call_after(std::chrono::milliseconds delay, std::function<void()> fn) override;

  /// The calling thread may not wait for this client (its I/O thread or callback thread).
  bool on_own_thread() const noexcept;

 private:
  using clock = std::chrono::steady_clock;
  using connection_ptr = typename Endpoint::connection_ptr;
  static constexpr bool secure = !std::is_same_v<Endpoint, plain_endpoint>;
  static constexpr bool inline_callbacks = Dispatch::runs_inline;
  static constexpr bool metered = Metrics::enabled;

  /// One transport's state, replaced whole by each dial.
  struct transport_state {
    connection_ptr con;
    std::uint64_t id = 0;          // stale handlers of older transports are ignored by id
    bool open = false;             // the handshake completed
    bool close_sent = false;       // closing: the close frame follows the accepted frames
    bool reading_paused = false;   // the callback side is behind
    bool has_local_cause = false;  // this client ended it (cause below; empty = close())
    reason local_cause;
    std::uint16_t lib_close_code = 0;  // a close websocketpp started itself (1009, 1002, 1007)
    std::size_t handed = 0;            // queue_ frames handed to websocketpp, write not done
    std::size_t handed_bytes = 0;      // their encoded size, at most ~max_bytes_in_flight
    bool write_in_flight = false;
    bool write_timer_armed = false;
    clock::time_point write_started{};
    clock::time_point last_read{};
    // Metrics only (set when Metrics::enabled):
    clock::time_point dial_started{};
    clock::time_point opened_at{};
    clock::time_point ping_sent{};  // the client's ping waiting for its pong, or {}
  };

  // Calls fn(engine, args...) from an I/O handler while the engine lives.
  template <class Fn>
  auto weak_handler(Fn fn) {
    return [weak = this->weak_from_this(), fn = std::move(fn)](auto&&... args) mutable {
      if (auto self = weak.lock()) fn(*self, std::forward<decltype(args)>(args)...);
    };
  }
  template <class Fn>
  void post_io(Fn fn) {
    asio::post(io_, weak_handler([fn = std::move(fn)](client_core& self) mutable { fn(self); }));
  }

  // --- user threads (impl/client_core.hpp) ---
  std::error_code admission_locked() const;  // why send() would refuse now, mu_ held
  bool request_close();                      // true for the first call
  void wait_until_done();
  void join_threads();
  void release_io_holder();  // the I/O side's reference is gone (done() may become ready)

  // --- I/O thread: dialing and reconnecting (impl/client_dial.hpp) ---
  void begin_dial();
  void on_open(std::uint64_t transport, const websocketpp::connection_hdl& hdl);
  void on_fail(std::uint64_t transport);
  reason failure_reason(const connection_ptr& con);
  void dial_failed(reason why);
  void schedule_redial();
  void redial(dial_url next, header_list headers, reason hook_failure);
  void abandon_connection();
  void retire(const websocketpp::connection_hdl& hdl);

  // --- I/O thread: the open transport (impl/client_session.hpp) ---
  bool pump();  // true when every queued frame has been handed to websocketpp
  void send_close_frame();
  void start_heartbeat();
  void ping_later();
  void check_liveness();
  void arm_write_deadline(clock::time_point at);
  void on_message(std::uint64_t transport, std::string&& data);
  void resume_reading();
  void drop_transport(reason cause);  // local cause: force the socket shut
  static void shut_socket(const connection_ptr& con);
  void begin_close();
  void on_close(std::uint64_t transport);
  reason close_reason(const connection_ptr& con);
  static std::string transport_detail(const connection_ptr& con);
  // Ends the client: disconnect (on_disconnect fires) or, for a failed first dial, stop.
  void finish(reason why, event::kind last = event::kind::disconnect);
  void stop_timers();
  Endpoint& endpoint() noexcept { return shared_.endpoint(); }
  bool is_current(std::uint64_t transport) const noexcept {
    return transport == tx_.id && tx_.con != nullptr;
  }

  void on_write_start(std::uint64_t transport, std::size_t data_frames, bool close_frame) override;
  void on_write_done(std::uint64_t transport, std::size_t data_frames, bool ok) override;
  void on_bytes_read(std::uint64_t transport) override;
  void on_read_processed(std::uint64_t transport) override;
  void on_handler_threw(std::uint64_t transport, const std::string& what) override;

  // --- the callback side (impl/client_callbacks.hpp) ---
  void post_event(event e);
  void callback_loop();
  bool handle(event& e, frame& scratch);  // true after the last event
  void deliver(const std::string& data, std::uint64_t transport, frame& scratch);
  void run_reconnect_hook(event& e);
  void complete_dial(reason why);
  bool stops_on_close_code(std::uint16_t code);
  template <class Fn, class... Args>
  void invoke(const char* which, const Fn& fn, Args&&... args);

  // metric([&](auto& m) { m.hook(…); }): compiled out (with what computes its arguments, when
  // that sits inside the lambda) unless Metrics::enabled. A hook that throws loses one figure.
  template <class Fn>
  void metric(Fn&& fn) noexcept {
    if constexpr (metered) {
      try {
        fn(opts_.metrics());
      } catch (...) {
      }
    }
  }
  static std::chrono::microseconds micros(clock::duration d) noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(d);
  }

  // Call sites test logs(level) first, so a disabled logger never builds its fields. A
  // logger that throws loses that record and nothing else.
  bool logs(log_level level) noexcept { return should_log(opts_.logger(), level); }
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields) noexcept {
    try {
      opts_.logger().log(level, message, fields);
    } catch (...) {
    }
  }

  options_type opts_;
  dial_url url_;
  std::string log_url_;     // redacted once per URL (empty when nothing logs); I/O thread
  std::string cb_log_url_;  // the callback side's copy (before_reconnect may change the URL)

  std::unique_ptr<asio::io_context> owned_io_;  // null on the application's io_context
  asio::io_context& io_;
  shared_endpoint<Endpoint>& shared_;  // the io_context's endpoint and masking keys
  host_lookup<typename Endpoint::transport_type> lookup_;  // this client's dials
  std::thread io_thread_;                                  // owned io_context only
  std::thread cb_thread_;                                  // callback_thread only
  std::thread::id cb_thread_id_;
  std::shared_ptr<client_core> keep_alive_;  // application's io_context: alive until finished

  // Shared with user threads, under mu_ (accepting_ and queued_ mirror it for a lock-free
  // refusal before the encode).
  mutable std::mutex mu_;
  client_state state_ = client_state::connecting;
  bool pump_posted_ = false;
  bool close_requested_ = false;
  send_queue<Bounds::send_frames> queue_;
  std::condition_variable room_cv_;  // send_for: room in queue_, or closing
  std::size_t room_waiters_ = 0;     // senders waiting on room_cv_ (no notify without one)
  std::atomic<bool> accepting_{true};
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> connected_{false};

  // The callback side.
  struct no_event_queue {  // inline_callbacks: nothing waits, nothing to allocate
    no_event_queue(std::size_t, std::size_t) noexcept {}
  };
  std::conditional_t<inline_callbacks, no_event_queue, event_queue> events_{
      Bounds::inbound_frames, inbound_bytes_of<Bounds>::value};
  bool events_closed_ = false;  // inline: the last event was handled
  dial_completion on_dialed_;
  std::vector<std::function<void()>> after_done_;  // async_close continuations, under mu_
  bool disconnected_ = false;                      // under mu_: on_disconnect has returned

  std::mutex join_mu_;  // close() may race with itself on several threads

  // I/O-thread only.
  std::string dial_text_;  // URL of the next dial (before_reconnect may change it)
  header_list headers_;    // headers of the next dial
  transport_state tx_;
  std::uint64_t transports_ = 0;  // ids handed out
  bool ever_opened_ = false;      // the first dial succeeded
  bool closing_ = false;          // close() reached the I/O thread
  bool finished_ = false;
  static constexpr std::size_t max_bytes_in_flight = 256 * 1024;  // per write (write_wait)
  unsigned attempt_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
  asio::steady_timer dial_timer_{io_};  // the backoff delay, then the dial's handshake deadline
  asio::steady_timer ping_timer_{io_};
  asio::steady_timer live_timer_{io_};
  asio::steady_timer write_timer_{io_};
  asio::steady_timer close_timer_{io_};
  asio::steady_timer uptime_timer_{io_};  // min_uptime: when a new transport counts as stable
  std::shared_ptr<std::string> tls_failure_ = std::make_shared<std::string>();  // wss:// only

  // done() is ready once the engine finished, on_disconnect returned and every internal
  // holder (I/O thread or keep_alive_, callback thread) dropped its reference: if nothing
  // else held the engine, it is destroyed by then.
  struct done_state {
    std::promise<void> ready;
    std::atomic<int> holders{0};
    void release() {
      if (holders.fetch_sub(1, std::memory_order_acq_rel) == 1) ready.set_value();
    }
  };
  std::shared_ptr<done_state> done_state_ = std::make_shared<done_state>();
  std::shared_future<void> done_{done_state_->ready.get_future().share()};
};

}  // namespace detail
}  // namespace wspulse

// #include "wspulse/impl/client_core.hpp"
// wspulse_client — detail::client_core: life cycle, send and close (see detail/client_core.hpp).
// SPDX-License-Identifier: MIT

namespace wspulse {
namespace detail {

#define WSPULSE_CORE_TEMPLATE                                                        \
  template <class Codec, class Logger, class Backoff, class Heartbeat, class Bounds, \
            class Dispatch, class Metrics, class Endpoint>
#define WSPULSE_CORE \
  client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics, Endpoint>

WSPULSE_CORE_TEMPLATE
WSPULSE_CORE::client_core(dial_url url, options_type opts, asio::io_context* io)
    : opts_(std::move(opts)),
      url_(std::move(url)),
      log_url_(Logger::enabled ? redact_url(url_.text) : std::string()),
      cb_log_url_(log_url_),
      owned_io_(io == nullptr ? std::make_unique<asio::io_context>(1) : nullptr),
      io_(io == nullptr ? *owned_io_ : *io),
      shared_((prime_websocketpp_statics(), shared_endpoint<Endpoint>::of(io_))),
      dial_text_(url_.text),
      headers_(opts_.dial_headers()) {}

WSPULSE_CORE_TEMPLATE
WSPULSE_CORE::~client_core() {
  // Normally close() joined the threads. When the handle died inside a callback, the last
  // reference may be an internal thread itself: it cannot join itself, so it detaches.
  for (std::thread* t : {&io_thread_, &cb_thread_}) {
    if (!t->joinable()) continue;
    if (t->get_id() == std::this_thread::get_id()) {
      t->detach();
    } else {
      t->join();
    }
  }
}

/// io.run() on the client's own I/O thread, but after handlers ran it polls for `spin` before
/// it blocks again: the callback thread's answer to a message then needs no wake-up here.
inline void run_io(asio::io_context& io, std::chrono::microseconds spin) {
  if (spin.count() == 0) {
    io.run();
    return;
  }
  spin_gate gate;
  while (io.run_one() != 0) {
    while (!io.stopped() && gate.try_now()) {
      const bool found = spin_for(spin, [&io] { return io.poll() != 0; });
      gate.found(found);
      if (!found) break;
    }
  }
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::start(dial_completion completion) {
  on_dialed_ = std::move(completion);
  lookup_.set_owner(this->weak_from_this());
  auto self = this->shared_from_this();
  // Each internal holder of a reference counts for done(): registered before its thread
  // starts (a thread may finish at once), withdrawn if it could not start.
  try {
    if (owned_io_) {
      done_state_->holders.fetch_add(1, std::memory_order_relaxed);
      try {
        io_thread_ = start_thread([self, work = asio::make_work_guard(io_)]() mutable {
          for (;;) {
            try {
              run_io(self->io_,
                     inline_callbacks ? std::chrono::microseconds{0} : spin_of<Dispatch>::value);
              break;
            } catch (const std::exception& ex) {  // a user hook or a dependency threw: go on
              if (self->logs(log_level::error))
                self->log(log_level::error, "I/O handler threw", {{"what", ex.what()}});
            }
          }
          work.reset();
          auto done = self->done_state_;
          self.reset();  // the engine may be destroyed here: io_ is not running any more
          done->release();
        });
      } catch (...) {
        done_state_->holders.fetch_sub(1, std::memory_order_relaxed);
        throw;
      }
    }
    if constexpr (!inline_callbacks) {
      done_state_->holders.fetch_add(1, std::memory_order_relaxed);
      try {
        cb_thread_ = start_thread([self]() mutable {
          self->callback_loop();
          auto done = self->done_state_;
          self.reset();  // a handle destroyed inside a callback: the engine dies here
          done->release();
        });
      } catch (...) {
        done_state_->holders.fetch_sub(1, std::memory_order_relaxed);
        throw;
      }
      cb_thread_id_ = cb_thread_.get_id();
    }
  } catch (const std::system_error& ex) {  // near the process's thread limit
    if (owned_io_) owned_io_->stop();
    join_threads();
    reason why(ex.code());
    why.detail = "cannot start a thread of the client";
    return why;
  }
  if (!owned_io_) {  // the application's io_context: the engine lives until it finished
    done_state_->holders.fetch_add(1, std::memory_order_relaxed);
    keep_alive_ = self;
  }
  post_io([](client_core& core) { core.begin_dial(); });
  return {};
}

WSPULSE_CORE_TEMPLATE
reason WSPULSE_CORE::run_first_dial() {
  if (!owned_io_ && io_.get_executor().running_in_this_thread()) {
    reason why(std::make_error_code(std::errc::resource_deadlock_would_occur));
    why.detail = "a blocking dial on the thread running its io_context: use async_dial";
    return why;
  }
  auto outcome = std::make_shared<std::promise<reason>>();
  std::future<reason> result = outcome->get_future();
  if (reason refused = start([outcome](reason why, std::shared_ptr<core_interface>) {
        outcome->set_value(std::move(why));
      }))
    return refused;
  reason why = result.get();
  if (why) wait_until_done();
  return why;
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::on_own_thread() const noexcept {
  return std::this_thread::get_id() == cb_thread_id_ || io_.get_executor().running_in_this_thread();
}

// ---------------------------------------------------------------- user threads

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::send(const frame& f, std::chrono::milliseconds wait) {
  // Refused without a lock and before paying for an encode.
  if (!accepting_.load(std::memory_order_acquire)) return errc::connection_closed;
  if (wait.count() <= 0 && queued_.load(std::memory_order_acquire) >= Bounds::send_frames) {
    metric([](auto& m) { m.message_dropped(drop_cause::send_buffer_full); });
    return errc::send_buffer_full;
  }
  std::string wire;
  std::error_code ec;
  opts_.codec().encode(f, wire, ec);  // on the caller's thread, outside the lock
  if (ec) return ec;
  if constexpr (Codec::wire == wire_type::text && !codec_writes_valid_utf8<Codec>::value) {
    if (!utf8_valid(wire)) return errc::invalid_payload;  // a server closes with 1007
  }
  bool wake = false;
  std::size_t depth = 0;
  std::error_code refused;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (wait.count() > 0 && admission_locked() == errc::send_buffer_full) {
      ++room_waiters_;
      room_cv_.wait_for(lock, wait,
                        [this] { return admission_locked() != errc::send_buffer_full; });
      --room_waiters_;
    }
    refused = admission_locked();
    if (!refused) {
      queue_.push(std::move(wire));
      depth = queue_.size();
      queued_.store(depth, std::memory_order_release);
      wake = state_ == client_state::connected && !pump_posted_;
      pump_posted_ = pump_posted_ || wake;
    }
  }
  if (refused) {
    if (refused == errc::send_buffer_full)
      metric([](auto& m) { m.message_dropped(drop_cause::send_buffer_full); });
    return refused;
  }
  metric([&](auto& m) { m.send_queue_depth(depth, Bounds::send_frames); });
  if (!wake) return {};
  // On the I/O thread (inline callbacks, or another client's handler on the same context)
  // the frame is handed over at once: no hop, and a reply joins the write in progress.
  if (io_.get_executor().running_in_this_thread()) {
    pump();
  } else {
    post_io([](client_core& core) { core.pump(); });
  }
  return {};
}

WSPULSE_CORE_TEMPLATE
std::error_code WSPULSE_CORE::admission_locked() const {
  if (state_ == client_state::closing || state_ == client_state::closed)
    return errc::connection_closed;
  if (queue_.full()) return errc::send_buffer_full;
  return {};
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::request_close() {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!close_requested_) {
      close_requested_ = true;
      first = true;
      if (state_ != client_state::closed) state_ = client_state::closing;
      accepting_.store(false, std::memory_order_release);
    }
  }
  room_cv_.notify_all();  // senders waiting for room get connection_closed
  if (first) post_io([](client_core& core) { core.begin_close(); });
  return first;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::close() {
  request_close();
  // On a thread of its own (inside a callback, or on the io_context's thread) waiting would
  // deadlock: the client finishes on its own.
  if (!on_own_thread()) wait_until_done();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::async_close(std::function<void()> then) {
  bool now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now = disconnected_;
    if (!now && then) after_done_.push_back(std::move(then));
  }
  request_close();
  if (now && then) then();  // already done: on the caller's thread
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::wait_until_done() {
  // An owned io_context ends with the engine: its thread's exit is the end. On the
  // application's context, the end is done() (the context must be running meanwhile).
  if (owned_io_) {
    join_threads();
  } else {
    done_.wait();
    join_threads();
  }
}

// request/ack hook (issue 9 §2): one timer per call, on the I/O thread; what it runs goes to the
// callback side like any event (nothing runs after on_disconnect).
WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::call_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  post_io([delay, fn = std::move(fn)](client_core& self) mutable {
    if (self.finished_) return;
    auto timer = std::make_shared<asio::steady_timer>(self.io_, delay);
    timer->async_wait(self.weak_handler(
        [timer, fn = std::move(fn)](client_core& core, const std::error_code& ec) mutable {
          if (!ec && !core.finished_)
            core.post_event({event::kind::call, {}, {}, 0, {}, std::move(fn)});
        }));
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::join_threads() {
  std::lock_guard<std::mutex> lock(join_mu_);
  if (io_thread_.joinable()) io_thread_.join();
  if (cb_thread_.joinable()) cb_thread_.join();
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::release_io_holder() {
  // Posted, so that the handler that finished the engine has returned (and dropped its own
  // reference) first; on an owned io_context the I/O thread's exit does this.
  if (owned_io_) return owned_io_->stop();
  asio::post(io_, [self = std::move(keep_alive_), done = done_state_]() mutable {
    self.reset();
    done->release();
  });
}

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/impl/client_dial.hpp"
// wspulse_client — detail::client_core on the I/O thread: dialing, and the reconnect loop
// (backoff, attempts, stop rules, before_reconnect).
// SPDX-License-Identifier: MIT

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
// #include "wspulse/impl/client_session.hpp"
// wspulse_client — detail::client_core on the I/O thread: one open transport (writes and their
// deadlines, heartbeat and liveness, inbound messages, why it ended) and the client's end.
// SPDX-License-Identifier: MIT

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
// #include "wspulse/impl/client_callbacks.hpp"
// wspulse_client — detail::client_core's callback side: the events in order, the user's
// callbacks, the codec's decode. On the callback thread (callback_thread policy) or inline on
// the I/O thread (inline_callbacks), where the caller holds a reference to the engine.
// SPDX-License-Identifier: MIT

namespace wspulse {
namespace detail {

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::post_event(event e) {
  if constexpr (inline_callbacks) {
    if (events_closed_) return;  // nothing after on_disconnect
    events_closed_ = e.last();
    thread_local frame scratch;
    handle(e, scratch);
  } else {
    events_.push(std::move(e));
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::callback_loop() {
  std::deque<event> batch;  // taken under one lock: one wake-up serves every waiting event
  frame scratch;            // reused by deliver(): decoding keeps the strings' capacity
  for (;;) {
    events_.take(batch, spin_of<Dispatch>::value);
    std::size_t frames = 0;
    std::size_t bytes = 0;
    for (event& e : batch) {
      if (e.what == event::kind::message) {
        ++frames;
        bytes += e.data.size();
      }
      if (handle(e, scratch)) return;
    }
    batch.clear();
    if (frames > 0 && events_.handled(frames, bytes))
      post_io([](client_core& core) { core.resume_reading(); });
  }
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::handle(event& e, frame& scratch) {
  switch (e.what) {
    case event::kind::message: deliver(e.data, e.transport, scratch); return false;
    case event::kind::dialed: complete_dial(reason{}); return false;
    case event::kind::drop: invoke("on_transport_drop", opts_.drop_callback(), e.why); return false;
    case event::kind::restore:
      invoke("on_transport_restore", opts_.restore_callback());
      return false;
    case event::kind::redial: run_reconnect_hook(e); return false;
    case event::kind::call: invoke("request timer", e.call); return false;  // issue 9 §2
    case event::kind::disconnect:
      invoke("on_disconnect", opts_.disconnect_callback(), e.why);
      break;
    case event::kind::stop: complete_dial(std::move(e.why)); break;
  }
  std::vector<std::function<void()>> then;  // async_close continuations
  {
    std::lock_guard<std::mutex> lock(mu_);
    disconnected_ = true;
    then.swap(after_done_);
  }
  for (const auto& fn : then) invoke("async_close handler", fn);
  return true;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::complete_dial(reason why) {
  dial_completion completion = std::move(on_dialed_);
  on_dialed_ = nullptr;
  std::shared_ptr<core_interface> engine;
  if (!why) engine = this->shared_from_this();
  invoke("dial completion", completion, std::move(why), std::move(engine));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::run_reconnect_hook(event& e) {
  std::string url = std::move(e.data);
  header_list headers = std::move(e.headers);
  reason failure;
  try {
    opts_.reconnect_callback()(url, headers);
    for (const auto& [name, value] : headers) validate_header(name, value);
  } catch (const std::exception& ex) {  // a failed attempt, like a refused dial
    failure = reason(errc::callback_failed);
    failure.detail = std::string("before_reconnect: ") + ex.what();
  } catch (...) {
    failure = reason(errc::callback_failed);
    failure.detail = "before_reconnect: unknown exception";
  }
  dial_url next;
  if (!failure && (normalize_url(url, next) || next.secure != url_.secure)) {
    failure = reason(errc::invalid_url);
    failure.detail = "before_reconnect set an invalid URL or changed ws:// vs wss://";
  }
  if (failure && logs(log_level::error))
    log(log_level::error, "before_reconnect failed",
        {{"url", cb_log_url_}, {"reason", failure.message()}});
  if constexpr (Logger::enabled)
    if (!failure) cb_log_url_ = redact_url(next.text);
  post_io([next = std::move(next), headers = std::move(headers),
           failure = std::move(failure)](client_core& core) mutable {
    core.redial(std::move(next), std::move(headers), std::move(failure));
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::deliver(const std::string& data, std::uint64_t transport, frame& f) {
  std::error_code ec;
  try {
    opts_.codec().decode(data, f, ec);
  } catch (const std::exception& ex) {  // a throwing codec loses that message, like bad JSON
    if (logs(log_level::warn))
      log(log_level::warn, "codec threw: dropping message",
          {{"url", cb_log_url_}, {"what", ex.what()}, {"bytes", data.size()}});
    metric([](auto& m) { m.message_dropped(drop_cause::decode_failed); });
    return;
  } catch (...) {
    if (logs(log_level::warn))
      log(log_level::warn, "codec threw: dropping message",
          {{"url", cb_log_url_}, {"what", "unknown exception"}, {"bytes", data.size()}});
    metric([](auto& m) { m.message_dropped(drop_cause::decode_failed); });
    return;
  }
  if (ec) {
    if (logs(log_level::warn))
      log(log_level::warn, "dropping undecodable message",
          {{"url", cb_log_url_}, {"error", ec.message()}, {"bytes", data.size()}});
    metric([](auto& m) { m.message_dropped(drop_cause::decode_failed); });
    return;
  }
  const auto& fn = opts_.message_callback();
  if (!fn) return;
  try {
    fn(f);
    return;
  } catch (const std::exception& ex) {
    if (logs(log_level::error))
      log(log_level::error, "on_message threw", {{"url", cb_log_url_}, {"what", ex.what()}});
  } catch (...) {
    if (logs(log_level::error))
      log(log_level::error, "on_message threw",
          {{"url", cb_log_url_}, {"what", "unknown exception"}});
  }
  // Like the Go client's panic recovery: the transport is dropped, the process survives.
  post_io([transport](client_core& core) {
    if (core.is_current(transport)) core.drop_transport(errc::callback_failed);
  });
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::stops_on_close_code(std::uint16_t code) {
  const auto& pred = opts_.stop_close_code();
  if (!pred) return false;
  try {
    return pred(code);
  } catch (...) {  // a failing predicate says "no": the client goes on
    if (logs(log_level::error)) log(log_level::error, "stop_on_close_code threw", {});
    return false;
  }
}

WSPULSE_CORE_TEMPLATE
template <class Fn, class... Args>
void WSPULSE_CORE::invoke(const char* which, const Fn& fn, Args&&... args) {
  if (!fn) return;
  try {
    fn(std::forward<Args>(args)...);
  } catch (const std::exception& ex) {
    if (logs(log_level::error))
      log(log_level::error, "callback threw", {{"callback", which}, {"what", ex.what()}});
  } catch (...) {
    if (logs(log_level::error))
      log(log_level::error, "callback threw", {{"callback", which}, {"what", "unknown exception"}});
  }
}

#undef WSPULSE_CORE
#undef WSPULSE_CORE_TEMPLATE

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/detail/requests.hpp"
// wspulse_client — the pending requests of request() / request_keyed(): a bounded,
// thread-safe table that tells an answer from the request's own echo, fails requests on a
// drop, a close or a timeout, and completes each exactly once.
//
// Threads: add(), withdraw() and unique_id() run on user threads; answer(), fail_all(),
// close() and wake() on the client's callback thread (inside its callbacks). Completions run
// on the callback thread, never under the table's lock.
// SPDX-License-Identifier: MIT

// #include "wspulse/error.hpp"
// #include "wspulse/frame.hpp"

#include <algorithm>  // std::max
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wspulse {
namespace detail {

class request_table {
 public:
  using clock = std::chrono::steady_clock;
  /// Runs once: with the answer (failure empty), or with why the request failed.
  using completion = std::function<void(const reason& failure, const frame& answer)>;
  using key_extractor = std::function<std::string(const frame&)>;
  /// The frame as the codec reads it back after writing it (what the server echoes), or the
  /// codec's encode error.
  using echo_reader = std::function<std::error_code(const frame& f, frame& as_read)>;

  /// by_id: the answer carries the request's id. by_key: answer_key(answer) returns the key.
  enum class match : std::uint8_t { by_id, by_key };

  struct admission {
    std::error_code refused;                ///< set: nothing was registered
    std::optional<clock::time_point> wake;  ///< a timer must wake wake() at this time
  };

  request_table(std::size_t capacity, key_extractor answer_key, echo_reader read_back)
      : capacity_(capacity), answer_key_(std::move(answer_key)), read_back_(std::move(read_back)) {
    std::random_device entropy;
    const std::uint64_t bits = (std::uint64_t{entropy()} << 32) ^ entropy();
    static constexpr char hex[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) id_prefix_ += hex[(bits >> shift) & 0xF];
    id_prefix_ += '-';
  }

  /// An id no other client in the room is likely to use: the answer of another client's
  /// request must never match one of ours.
  std::string unique_id() { return id_prefix_ + std::to_string(++ids_); }

  bool has_answer_key() const noexcept { return static_cast<bool>(answer_key_); }

  /// What the server echoes of `f`; an encode error when `f` cannot be sent.
  std::error_code echo_of(const frame& f, frame& echo) const {
    if (!read_back_) {
      echo = f;
      return {};
    }
    return read_back_(f, echo);
  }

  /// Registers a request, before its frame is sent (an answer may come at once). `echo`
  /// (by_id): the request as the server echoes it back; a frame equal to it is no answer.
  admission add(match how, const std::string& key, frame echo, clock::duration timeout,
                completion done) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return {errc::connection_closed, std::nullopt};
    if (pending_.load(std::memory_order_relaxed) >= capacity_)
      return {errc::too_many_requests, std::nullopt};
    auto& table = how == match::by_id ? by_id_ : by_key_;
    const clock::time_point deadline = clock::now() + timeout;
    if (!table.emplace(key, entry{std::move(echo), deadline, std::move(done)}).second)
      return {errc::duplicate_request, std::nullopt};
    count(how, +1);
    if (!wakes_.empty() && *wakes_.begin() <= deadline) return {{}, std::nullopt};
    wakes_.insert(deadline);  // no earlier wake-up is scheduled: the caller schedules this one
    return {{}, deadline};
  }

  /// Takes back a request whose frame could not be sent. False when it completed already
  /// (the client finished meanwhile): its completion ran, or runs, with that reason.
  bool withdraw(match how, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& table = how == match::by_id ? by_id_ : by_key_;
    if (table.erase(key) == 0) return false;
    count(how, -1);
    return true;
  }

  /// An inbound frame: completes the request it answers and returns true (the frame is
  /// consumed), or returns false (an echo, a late answer, anything else: for on_message).
  bool answer(const frame& f) {
    if (pending_.load(std::memory_order_acquire) == 0) return false;
    std::optional<entry> hit = take_by_id(f);
    if (!hit && keyed_.load(std::memory_order_acquire) > 0 && answer_key_) {
      const std::string key = answer_key_(f);  // user code: outside the lock
      if (!key.empty()) hit = take(match::by_key, key);
    }
    if (!hit) return false;
    hit->done(reason{}, f);
    return true;
  }

  /// A drop: every pending request fails with its reason (its answer may be lost with the
  /// transport; whether to retry is the application's choice). The drop of a close() has no
  /// error: errc::connection_closed then, as for the disconnect that follows.
  void fail_all(const reason& why) {
    fail(take_all(false), why ? why : reason(errc::connection_closed));
  }

  /// The client finished: every pending request fails with the disconnect reason
  /// (errc::connection_closed for a close()), and new ones are refused.
  void close(const reason& why) {
    fail(take_all(true), why ? why : reason(errc::connection_closed));
  }

  /// A timer scheduled for `scheduled` fired: requests past their deadline fail with
  /// errc::request_timeout. Returns when the next wake-up must be scheduled, if one must.
  std::optional<clock::time_point> wake(clock::time_point scheduled) {
    std::vector<entry> expired;
    std::optional<clock::time_point> next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = wakes_.find(scheduled); it != wakes_.end()) wakes_.erase(it);
      const clock::time_point now = std::max(clock::now(), scheduled);
      std::optional<clock::time_point> earliest;
      for (match how : {match::by_id, match::by_key}) {
        auto& table = how == match::by_id ? by_id_ : by_key_;
        for (auto it = table.begin(); it != table.end();) {
          if (it->second.deadline <= now) {
            expired.push_back(std::move(it->second));
            it = table.erase(it);
            count(how, -1);
            continue;
          }
          if (!earliest || it->second.deadline < *earliest) earliest = it->second.deadline;
          ++it;
        }
      }
      if (earliest && !closed_ && (wakes_.empty() || *earliest < *wakes_.begin())) {
        wakes_.insert(*earliest);
        next = earliest;
      }
    }
    fail(std::move(expired), reason(errc::request_timeout));
    return next;
  }

  /// Requests waiting for their answer right now.
  std::size_t pending() const noexcept { return pending_.load(std::memory_order_acquire); }

 private:
  struct entry {
    frame echo;
    clock::time_point deadline;
    completion done;
  };

  // mu_ held.
  void count(match how, int delta) {
    pending_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_release);
    if (how == match::by_key) keyed_.fetch_add(static_cast<std::size_t>(delta));
  }

  std::optional<entry> take_by_id(const frame& f) {
    if (f.id.empty()) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = by_id_.find(f.id);
    // The room echo of the request itself (the hub and the test server send every frame back
    // to its sender too) carries the same id: it is not the answer.
    if (it == by_id_.end() || it->second.echo == f) return std::nullopt;
    entry hit = std::move(it->second);
    by_id_.erase(it);
    count(match::by_id, -1);
    return hit;
  }

  std::optional<entry> take(match how, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& table = how == match::by_id ? by_id_ : by_key_;
    const auto it = table.find(key);
    if (it == table.end()) return std::nullopt;
    entry hit = std::move(it->second);
    table.erase(it);
    count(how, -1);
    return hit;
  }

  std::vector<entry> take_all(bool closing) {
    std::vector<entry> out;
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = closed_ || closing;
    for (match how : {match::by_id, match::by_key}) {
      auto& table = how == match::by_id ? by_id_ : by_key_;
      for (auto& item : table) out.push_back(std::move(item.second));
      for (std::size_t i = 0; i < table.size(); ++i) count(how, -1);
      table.clear();
    }
    if (closing) wakes_.clear();
    return out;
  }

  // Runs every completion, even when one throws; the first exception then goes on to the
  // client, which treats it as it treats one from the callback that ran this.
  static void fail(std::vector<entry> failed, const reason& why) {
    std::exception_ptr first;
    for (auto& e : failed) {
      try {
        e.done(why, frame{});
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
  }

  const std::size_t capacity_;
  const key_extractor answer_key_;
  const echo_reader read_back_;
  std::string id_prefix_;
  std::atomic<std::uint64_t> ids_{0};

  std::mutex mu_;
  std::unordered_map<std::string, entry> by_id_;
  std::unordered_map<std::string, entry> by_key_;
  std::multiset<clock::time_point> wakes_;  // wake-ups scheduled and not yet run
  bool closed_ = false;
  std::atomic<std::size_t> pending_{0};  // by_id_ + by_key_, for the lock-free fast path
  std::atomic<std::size_t> keyed_{0};    // by_key_
};

/// Creates the request table of a client about to be dialled with `opts`, and routes the
/// client's inbound frames, drops and disconnect through it first (the answer of a request
/// never reaches on_message; failed requests complete before the user's callback runs).
template <class Bounds, class Options>
std::shared_ptr<request_table> attach_request_table(Options& opts) {
  request_table::echo_reader read_back;
  using codec_type = std::decay_t<decltype(opts.codec())>;
  if constexpr (std::is_copy_constructible_v<codec_type>) {
    read_back = [codec = opts.codec()](const frame& f, frame& as_read) {
      std::string wire;
      std::error_code ec;
      codec.encode(f, wire, ec);
      if (!ec) codec.decode(wire, as_read, ec);
      return ec;
    };
  }
  auto table = std::make_shared<request_table>(pending_requests_of<Bounds>::value,
                                               opts.answer_key_callback(), std::move(read_back));
  opts.on_message([table, user = opts.message_callback()](const frame& f) {
    if (!table->answer(f) && user) user(f);
  });
  // A request handler that throws does not keep the user's callback from running.
  opts.on_transport_drop([table, user = opts.drop_callback()](const reason& why) {
    std::exception_ptr failed;
    try {
      table->fail_all(why);
    } catch (...) {
      failed = std::current_exception();
    }
    if (user) user(why);
    if (failed) std::rethrow_exception(failed);
  });
  opts.on_disconnect([table, user = opts.disconnect_callback()](const reason& why) {
    std::exception_ptr failed;
    try {
      table->close(why);
    } catch (...) {
      failed = std::current_exception();
    }
    if (user) user(why);
    if (failed) std::rethrow_exception(failed);
  });
  return table;
}

}  // namespace detail
}  // namespace wspulse
// #include "wspulse/error.hpp"
// #include "wspulse/frame.hpp"
// #include "wspulse/logger.hpp"
// #include "wspulse/metrics.hpp"
// #include "wspulse/options.hpp"
// #include "wspulse/policies.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string_view>

namespace wspulse {

/// A wspulse client. Policies fix at compile time: the codec, the logger, the reconnect
/// backoff, the heartbeat, the buffer bounds, where callbacks run and the metrics collector. Move-only; the
/// destructor closes.
///
/// Where it runs: dial(url, …) gives the client its own io_context and I/O thread;
/// dial(io, url, …) / async_dial(io, url, …) run it on the application's io_context, which one
/// thread runs (many clients may share it; for more cores, one io_context per thread).
/// Callbacks run one at a time, in order, never under an internal lock: on a callback thread
/// of the client's (callback_thread, the default) or inline on the I/O thread
/// (inline_callbacks: no hop, handlers must not block).
///
/// Thread-safety: send(), close(), done() and connected() may be called from any thread,
/// including from inside the client's own callbacks.
template <class Codec = json_codec, class Logger = json_logger,
          class Backoff = exponential_backoff<>, class Heartbeat = heartbeat<>,
          class Bounds = buffer_bounds<>, class Dispatch = callback_thread,
          class Metrics = null_metrics>
class basic_client {
  static_assert(detail::is_dispatch_policy<Dispatch>::value,
                "wspulse: Dispatch must be callback_thread or inline_callbacks");
  static_assert(detail::is_metrics_policy<Metrics>::value,
                "wspulse: Metrics must declare `static constexpr bool enabled` (see null_metrics)");

 public:
  using options = basic_options<Codec, Logger, Backoff, Heartbeat, Bounds, Metrics>;

  /// An empty client (what a failed non-throwing dial returns): operator bool is false,
  /// send() returns errc::connection_closed, done() is ready.
  basic_client() noexcept = default;
  basic_client(basic_client&&) noexcept = default;
  basic_client& operator=(basic_client&& other) noexcept;
  ~basic_client() { close(); }

  /// Connects (ws://, wss://; http(s):// are mapped) and blocks until the upgrade completes,
  /// at most options::handshake_timeout. Never retries. Throws dial_error with the reason.
  static basic_client dial(std::string_view url, options opts = {});
  /// As above; on failure returns an empty client and sets `why`. Never throws.
  static basic_client dial(std::string_view url, options opts, reason& why) noexcept;
  /// As above, on the application's io_context, which another thread must be running; on the
  /// thread running it, fails with std::errc::resource_deadlock_would_occur (use async_dial).
  static basic_client dial(asio::io_context& io, std::string_view url, options opts = {});
  static basic_client dial(asio::io_context& io, std::string_view url, options opts,
                           reason& why) noexcept;
  /// Starts the dial and returns; `handler(reason, basic_client)` runs once with the outcome
  /// (an empty client on failure), where the client's callbacks run. On the application's
  /// io_context, a failure found before dialing (bad URL) is posted to it; on the client's own,
  /// it runs before async_dial returns.
  template <class Handler>
  static void async_dial(std::string_view url, options opts, Handler&& handler);
  template <class Handler>
  static void async_dial(asio::io_context& io, std::string_view url, options opts,
                         Handler&& handler);

  /// Queues a frame; never blocks. {} | connection_closed | send_buffer_full | the codec's error.
  std::error_code send(frame f);
  /// As send(), but waits up to `timeout` for room when the send queue is full (a bulk sender
  /// then needs no retry loop): send_buffer_full only once `timeout` passed without room;
  /// connection_closed at once if the client closes meanwhile. Encodes once, before waiting.
  /// From a callback it delays the client's next callbacks by up to `timeout`.
  std::error_code send_for(frame f, std::chrono::milliseconds timeout);
  /// Flushes accepted frames (within write_wait), closes with 1000, fires on_transport_drop
  /// (if a transport was open) and on_disconnect, and returns once the client is done and its
  /// threads have finished: unless called on a thread of the client's (a callback, or the
  /// thread running its io_context), where it returns at once. Idempotent.
  void close();
  /// Starts closing and returns; `handler()` runs once on_disconnect has returned (where the
  /// callbacks run; on the calling thread if that already happened).
  template <class Handler>
  void async_close(Handler&& handler);
  // ---- request / acknowledge (issue 9 §2; bodies in impl/request.hpp) ----
  /// Runs once where callbacks run: with the answer (`failure` empty) or why it failed.
  using request_handler = std::function<void(const reason& failure, const frame& answer)>;
  /// Sends `f` and returns a future of its answer: the first inbound frame with the same `id`
  /// that is not the room's echo of `f` itself (a frame equal to `f` as the codec reads it
  /// back). An empty id gets a unique one. The future fails with a request_error: code
  /// errc::request_timeout after `timeout` ((0, 10 min]), the drop's reason when the transport
  /// drops first, the disconnect reason (errc::connection_closed after close()), or why it
  /// could not be sent (send()'s errors, errc::too_many_requests, errc::duplicate_request).
  /// The answer does not reach on_message; the echo, and an answer after the request ended, do.
  std::future<frame> request(frame f, std::chrono::milliseconds timeout);
  /// As request(f, timeout), completed by `on_done`. Returns an error (and never calls
  /// `on_done`) when the request could not be sent; {} when `on_done` will run exactly once.
  std::error_code request(frame f, std::chrono::milliseconds timeout, request_handler on_done);
  /// As request(), matched by `key` instead of the id: the answer is the first inbound frame
  /// for which options::answer_key returns `key` (the hub drops `id`: its applications put
  /// the key in the payload). `f` is sent as it is. Without answer_key: std::errc::invalid_argument.
  std::future<frame> request_keyed(std::string key, frame f, std::chrono::milliseconds timeout);
  std::error_code request_keyed(std::string key, frame f, std::chrono::milliseconds timeout,
                                request_handler on_done);

  /// Ready once the client is permanently finished (on_disconnect has returned).
  std::shared_future<void> done() const;
  /// A transport is open right now.
  bool connected() const noexcept { return core_ && core_->connected(); }
  explicit operator bool() const noexcept { return core_ != nullptr; }

 private:
  template <class Endpoint>
  using core_type =
      detail::client_core<Codec, Logger, Backoff, Heartbeat, Bounds, Dispatch, Metrics, Endpoint>;
  using core_ptr = std::shared_ptr<detail::core_interface>;
  using requests_ptr = std::shared_ptr<detail::request_table>;
  explicit basic_client(core_ptr core, requests_ptr requests = nullptr) noexcept
      : core_(std::move(core)), requests_(std::move(requests)) {}
  static core_ptr make_core(std::string_view url, options&& opts, asio::io_context* io,
                            reason& why);
  static basic_client dial_on(asio::io_context* io, std::string_view url, options&& opts,
                              reason& why) noexcept;
  template <class Handler>
  static void async_dial_on(asio::io_context* io, std::string_view url, options&& opts,
                            Handler&& handler);

  std::error_code start_request(detail::request_table::match how, std::string key, frame f,
                                std::chrono::milliseconds timeout,
                                detail::request_table::completion done);  // issue 9 §2

  core_ptr core_;
  requests_ptr requests_;  // request/ack (issue 9 §2)
};

/// The client with every default policy.
using client = basic_client<>;
/// Options of wspulse::client.
using options = client::options;

// The two below are templates only so that a translation unit that includes the library
// without calling them does not instantiate the whole client (4-5 s of compile time per TU);
// Client is never deduced (`options` is a non-deduced context): it is always `client`.

/// Same as client::dial.
template <typename Client = client>
Client dial(std::string_view url, typename Client::options opts = {}) {
  return Client::dial(url, std::move(opts));
}
/// Same as client::dial(url, opts, why): never throws; an empty client on failure.
template <typename Client = client>
Client dial(std::string_view url, typename Client::options opts, reason& why) noexcept {
  return Client::dial(url, std::move(opts), why);
}

}  // namespace wspulse

// #include "wspulse/impl/client.hpp"
// wspulse_client — bodies of basic_client.
// SPDX-License-Identifier: MIT

#include <new>
#include <type_traits>
#include <utility>

namespace wspulse {

#define WSPULSE_CLIENT_TEMPLATE \
  template <class C, class L, class B, class H, class X, class D, class M>
#define WSPULSE_CLIENT basic_client<C, L, B, H, X, D, M>

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT& WSPULSE_CLIENT::operator=(basic_client&& other) noexcept {
  if (this != &other) {
    close();
    core_ = std::move(other.core_);
    requests_ = std::move(other.requests_);  // request/ack (issue 9 §2)
  }
  return *this;
}

WSPULSE_CLIENT_TEMPLATE
auto WSPULSE_CLIENT::make_core(std::string_view url, options&& opts, asio::io_context* io,
                               reason& why) -> core_ptr {
  detail::dial_url target;
  if (std::error_code ec = detail::normalize_url(url, target)) {
    why = reason(ec);
    return nullptr;
  }
  if (!target.secure)
    return std::make_shared<core_type<detail::plain_endpoint>>(std::move(target), std::move(opts),
                                                               io);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  // Here, not per dial: once per client, however often it reconnects.
  if (!opts.tls_verify() && should_log(opts.logger(), log_level::warn))
    opts.logger().log(log_level::warn,
                      "TLS verification is off (tls_verify(false)): any server can impersonate "
                      "this one; use it only in development",
                      {{"url", redact_url(target.text)}});
  return std::make_shared<core_type<detail::tls_endpoint>>(std::move(target), std::move(opts), io);
#else
  why = reason(errc::tls_unavailable);  // never fall back to clear text
  return nullptr;
#endif
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial_on(asio::io_context* io, std::string_view url, options&& opts,
                                       reason& why) noexcept {
  try {
    why = reason{};
    requests_ptr requests = detail::attach_request_table<X>(opts);  // request/ack (issue 9 §2)
    core_ptr core = make_core(url, std::move(opts), io, why);
    if (!core) return basic_client();
    why = core->run_first_dial();
    if (!why) return basic_client(std::move(core), std::move(requests));
  } catch (const std::bad_alloc&) {
    why = reason(std::make_error_code(std::errc::not_enough_memory));
  } catch (const std::system_error& ex) {
    why = reason(ex.code());
  } catch (...) {
    why = reason(errc::connection_lost);
  }
  return basic_client();
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(std::string_view url, options opts) {
  reason why;
  basic_client c = dial_on(nullptr, url, std::move(opts), why);
  if (!c) throw dial_error(std::move(why));
  return c;
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(std::string_view url, options opts, reason& why) noexcept {
  return dial_on(nullptr, url, std::move(opts), why);
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(asio::io_context& io, std::string_view url, options opts) {
  reason why;
  basic_client c = dial_on(&io, url, std::move(opts), why);
  if (!c) throw dial_error(std::move(why));
  return c;
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(asio::io_context& io, std::string_view url, options opts,
                                    reason& why) noexcept {
  return dial_on(&io, url, std::move(opts), why);
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_dial(std::string_view url, options opts, Handler&& handler) {
  async_dial_on(nullptr, url, std::move(opts), std::forward<Handler>(handler));
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_dial(asio::io_context& io, std::string_view url, options opts,
                                Handler&& handler) {
  async_dial_on(&io, url, std::move(opts), std::forward<Handler>(handler));
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_dial_on(asio::io_context* io, std::string_view url, options&& opts,
                                   Handler&& handler) {
  using handler_type = std::decay_t<Handler>;
  static_assert(std::is_invocable_v<handler_type&, reason, basic_client>,
                "wspulse: async_dial's handler is called as handler(reason, basic_client)");
  auto h = std::make_shared<handler_type>(std::forward<Handler>(handler));
  auto fail = [io, h](reason why) {
    if (io == nullptr) return (*h)(std::move(why), basic_client());
    asio::post(*io, [h, why = std::move(why)]() mutable { (*h)(std::move(why), basic_client()); });
  };
  reason why;
  requests_ptr requests = detail::attach_request_table<X>(opts);  // request/ack (issue 9 §2)
  core_ptr core = make_core(url, std::move(opts), io, why);
  if (!core) return fail(std::move(why));
  why = core->start([h, requests](reason outcome, core_ptr engine) {
    (*h)(std::move(outcome), engine ? basic_client(std::move(engine), requests) : basic_client());
  });
  if (why) fail(std::move(why));
}

WSPULSE_CLIENT_TEMPLATE
std::error_code WSPULSE_CLIENT::send(frame f) {
  if (!core_) return errc::connection_closed;
  return core_->send(f, std::chrono::milliseconds(0));
}

WSPULSE_CLIENT_TEMPLATE
std::error_code WSPULSE_CLIENT::send_for(frame f, std::chrono::milliseconds timeout) {
  if (!core_) return errc::connection_closed;
  return core_->send(f, timeout);
}

WSPULSE_CLIENT_TEMPLATE
void WSPULSE_CLIENT::close() {
  if (core_) core_->close();
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_close(Handler&& handler) {
  static_assert(std::is_invocable_v<std::decay_t<Handler>&>,
                "wspulse: async_close's handler is called as handler()");
  auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
  if (!core_) return (*h)();
  core_->async_close([h] { (*h)(); });
}

WSPULSE_CLIENT_TEMPLATE
std::shared_future<void> WSPULSE_CLIENT::done() const {
  if (core_) return core_->done();
  std::promise<void> ready;
  ready.set_value();
  return ready.get_future().share();
}

#undef WSPULSE_CLIENT
#undef WSPULSE_CLIENT_TEMPLATE

}  // namespace wspulse
// #include "wspulse/impl/request.hpp"
// wspulse_client — bodies of basic_client's request / acknowledge (issue 9 §2); the table of
// pending requests is detail/requests.hpp.
// SPDX-License-Identifier: MIT

#include <algorithm>  // std::max
#include <chrono>
#include <exception>
#include <memory>
#include <system_error>
#include <utility>

namespace wspulse {
namespace detail {

inline constexpr std::chrono::milliseconds max_request_timeout{10 * 60 * 1000};

// The timers of a table: one wake-up at a time is enough (the table says when the next is
// due). Weak references: a timer never keeps a finished client or its table alive.
inline void schedule_request_wake(const std::weak_ptr<core_interface>& core,
                                  const std::weak_ptr<request_table>& table,
                                  request_table::clock::time_point at) {
  const auto shared = core.lock();
  if (!shared) return;
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(
      at - request_table::clock::now());  // never early: the deadline must have passed
  shared->call_after(std::max(delay, std::chrono::milliseconds(0)), [core, table, at] {
    const auto live = table.lock();
    if (!live) return;
    if (auto next = live->wake(at)) schedule_request_wake(core, table, *next);
  });
}

inline request_table::completion future_completion(std::shared_ptr<std::promise<frame>> promise) {
  return [promise = std::move(promise)](const reason& failure, const frame& answer) {
    if (failure) {
      promise->set_exception(std::make_exception_ptr(request_error(failure)));
    } else {
      promise->set_value(answer);
    }
  };
}

}  // namespace detail

template <class C, class L, class B, class H, class X, class D, class M>
std::error_code basic_client<C, L, B, H, X, D, M>::start_request(
    detail::request_table::match how, std::string key, frame f, std::chrono::milliseconds timeout,
    detail::request_table::completion done) {
  using match = detail::request_table::match;
  if (!core_ || !requests_) return errc::connection_closed;
  if (timeout.count() <= 0 || timeout > detail::max_request_timeout)
    return std::make_error_code(std::errc::invalid_argument);
  frame echo;
  if (how == match::by_id) {
    if (f.id.empty()) f.id = requests_->unique_id();
    key = f.id;
    if (std::error_code ec = requests_->echo_of(f, echo)) return ec;  // it could not be sent
  } else if (key.empty() || !requests_->has_answer_key()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto admitted = requests_->add(how, key, std::move(echo), timeout, std::move(done));
  if (admitted.refused) return admitted.refused;
  // Before the send: a wake-up that finds its request gone does nothing.
  if (admitted.wake) detail::schedule_request_wake(core_, requests_, *admitted.wake);
  if (std::error_code ec = core_->send(f, std::chrono::milliseconds(0))) {
    if (requests_->withdraw(how, key)) return ec;
    // The client finished meanwhile: the request already failed with that reason.
  }
  return {};
}

template <class C, class L, class B, class H, class X, class D, class M>
std::future<frame> basic_client<C, L, B, H, X, D, M>::request(frame f,
                                                              std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<frame>>();
  std::future<frame> answer = promise->get_future();
  if (std::error_code ec = start_request(detail::request_table::match::by_id, std::string(),
                                         std::move(f), timeout, detail::future_completion(promise)))
    promise->set_exception(std::make_exception_ptr(request_error(reason(ec))));
  return answer;
}

template <class C, class L, class B, class H, class X, class D, class M>
std::error_code basic_client<C, L, B, H, X, D, M>::request(frame f,
                                                           std::chrono::milliseconds timeout,
                                                           request_handler on_done) {
  if (!on_done) return std::make_error_code(std::errc::invalid_argument);
  return start_request(detail::request_table::match::by_id, std::string(), std::move(f), timeout,
                       std::move(on_done));
}

template <class C, class L, class B, class H, class X, class D, class M>
std::future<frame> basic_client<C, L, B, H, X, D, M>::request_keyed(
    std::string key, frame f, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<frame>>();
  std::future<frame> answer = promise->get_future();
  if (std::error_code ec = start_request(detail::request_table::match::by_key, std::move(key),
                                         std::move(f), timeout, detail::future_completion(promise)))
    promise->set_exception(std::make_exception_ptr(request_error(reason(ec))));
  return answer;
}

template <class C, class L, class B, class H, class X, class D, class M>
std::error_code basic_client<C, L, B, H, X, D, M>::request_keyed(std::string key, frame f,
                                                                 std::chrono::milliseconds timeout,
                                                                 request_handler on_done) {
  if (!on_done) return std::make_error_code(std::errc::invalid_argument);
  return start_request(detail::request_table::match::by_key, std::move(key), std::move(f), timeout,
                       std::move(on_done));
}

}  // namespace wspulse
// #include "wspulse/router.hpp"
// wspulse_client — router: Gin-style middleware and per-event handlers for received frames,
// the client-side counterpart of the Go core/router. Typical use:
//   router r;
//   r.use(router::recovery()).on("chat.message", [](router::context& c) { … });
//   opts.on_message([&r](const frame& f) { r.dispatch(f); });
// SPDX-License-Identifier: MIT

// #include "wspulse/config.hpp"
// #include "wspulse/frame.hpp"

#include <any>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspulse {

/// Routes frames by `event` through middleware (use) and handlers (on). Registration is not
/// thread-safe; dispatch() is const and may run on several threads once registration is done.
class router {
 public:
  class context;
  using handler = std::function<void(context&)>;
  using error_handler = std::function<void(context&, std::exception_ptr)>;

  /// The state of one dispatch: the frame, the chain position, and per-dispatch values.
  class context {
   public:
    const wspulse::frame& frame;  ///< the frame being dispatched

    /// Runs the rest of the chain now (middleware calls it to wrap what follows).
    void next() {
      for (++index_; index_ < size() && !aborted_; ++index_) at(index_)(*this);
    }
    /// Stops the chain: no handler after the current one runs.
    void abort() noexcept { aborted_ = true; }
    bool aborted() const noexcept { return aborted_; }

    /// Stores a value for later handlers of this dispatch.
    void set(std::string key, std::any value) { values_[std::move(key)] = std::move(value); }
    /// The value stored under key, or nullptr.
    const std::any* get(std::string_view key) const {
      const auto it = values_.find(key);
      return it == values_.end() ? nullptr : &it->second;
    }
    /// The value under key if it holds a T, else nullptr.
    template <class T>
    const T* get_as(std::string_view key) const {
      const std::any* v = get(key);
      return v ? std::any_cast<T>(v) : nullptr;
    }

   private:
    friend class router;
    context(const wspulse::frame& f, const std::vector<handler>& middleware,
            const std::vector<handler>& handlers)
        : frame(f), middleware_(middleware), handlers_(handlers) {}
    std::size_t size() const noexcept { return middleware_.size() + handlers_.size(); }
    const handler& at(std::size_t i) const {
      return i < middleware_.size() ? middleware_[i] : handlers_[i - middleware_.size()];
    }

    const std::vector<handler>& middleware_;
    const std::vector<handler>& handlers_;
    std::size_t index_ = static_cast<std::size_t>(-1);
    bool aborted_ = false;
    std::map<std::string, std::any, std::less<>> values_;
  };

  /// Adds middleware that runs, in order, before the handlers of every dispatch.
  router& use(handler middleware) {
    require(middleware, "middleware");
    middleware_.push_back(std::move(middleware));
    return *this;
  }

  /// Registers the handler chain of an event. Throws std::invalid_argument for an empty event,
  /// an event registered before, no handler, or an empty handler.
  template <class... Handlers>
  router& on(std::string event, handler first, Handlers&&... more) {
    if (event.empty()) throw std::invalid_argument("wspulse: router event must not be empty");
    if (routes_.count(event) != 0)
      throw std::invalid_argument("wspulse: router event '" + event + "' is already registered");
    std::vector<handler> chain{std::move(first), handler(std::forward<Handlers>(more))...};
    for (const handler& h : chain) require(h, "handler");
    routes_.emplace(std::move(event), std::move(chain));
    return *this;
  }

  /// Handles frames whose event has no route (and frames without event). Default: none.
  router& fallback(handler h) {
    require(h, "fallback");
    fallback_ = {std::move(h)};
    return *this;
  }

  /// Runs middleware then the frame's handlers (or the fallback). Exceptions propagate unless
  /// a recovery() middleware catches them. Returns false when nothing handled the frame.
  bool dispatch(const wspulse::frame& f) const {
    const auto it = routes_.find(f.event);
    const std::vector<handler>& handlers = it != routes_.end() ? it->second : fallback_;
    if (handlers.empty()) return false;
    context c(f, middleware_, handlers);
    c.next();
    return true;
  }

  /// Middleware that catches an exception from the rest of the chain, aborts it, and reports it
  /// to on_error (if given): the Go router's Recovery().
  static handler recovery(error_handler on_error = {}) {
    return [on_error = std::move(on_error)](context& c) {
      try {
        c.next();
      } catch (...) {
        c.abort();
        if (on_error) on_error(c, std::current_exception());
      }
    };
  }

 private:
  static void require(const handler& h, const char* what) {
    if (!h)
      throw std::invalid_argument(std::string("wspulse: router ") + what + " must not be empty");
  }

  std::vector<handler> middleware_;
  std::map<std::string, std::vector<handler>, std::less<>> routes_;
  std::vector<handler> fallback_;
};

}  // namespace wspulse
