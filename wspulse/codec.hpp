// wspulse_client — codecs: how a frame becomes the bytes of one WebSocket message and back.
// Defines the Codec requirements and json_codec, the default (RapidJSON, text frames).
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"
#include "detail/json_sax.hpp"
#include "detail/json_text.hpp"
#include "detail/json_validate.hpp"
#include "error.hpp"
#include "frame.hpp"

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
