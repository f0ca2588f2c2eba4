// wspulse_client — structured logging: the Logger concept, log levels, key/value fields, and the
// provided loggers (json_logger, ostream_logger, null_logger).
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"

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
