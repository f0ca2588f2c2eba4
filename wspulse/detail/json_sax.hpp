// wspulse_client — the RapidJSON SAX machinery behind the JSON codec: a bounded input stream, an
// allocation-free scratch allocator for the reader's stack, and the event handlers that pull a
// frame out of a message or check that a payload is one JSON value.
// SPDX-License-Identifier: MIT
#pragma once

#include "../config.hpp"
#include "../frame.hpp"
#include "json_text.hpp"

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
