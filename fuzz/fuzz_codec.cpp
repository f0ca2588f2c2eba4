// wspulse_client fuzzing — json_codec. The first input byte picks a mode:
//   decode     the rest is an inbound message: decode never crashes, fails only with
//              decode_failed (fields left empty), and what it accepts re-encodes and decodes
//              back to the same frame;
//   raw frame  id, event and payload are arbitrary bytes: encode fails only with
//              invalid_payload (output left empty); when it succeeds the output is valid UTF-8
//              and decode(encode(f)) == f (payload trimmed of surrounding JSON white space);
//   built      id and event arbitrary, payload a valid JSON value built from the bytes: encode
//              must accept it whenever id and event are valid UTF-8, and round-trip.
// In both encode modes, the payload validator encode uses (detail/json_validate.hpp) and the
// RapidJSON reader must agree on the payload: same verdict, same value.
// SPDX-License-Identifier: MIT
#include <wspulse/codec.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using wspulse::errc;
using wspulse::frame;
using wspulse_fuzz::byte_reader;
using wspulse_fuzz::strict_utf8;

const wspulse::json_codec codec;

std::string_view trim_json_space(std::string_view s) {
  constexpr std::string_view space = " \t\n\r";
  const std::size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// encode(f) then decode: the round-trip property, plus what an accepted encoding must be.
void check_round_trip(const frame& f, bool must_encode) {
  std::string wire;
  std::error_code ec;
  codec.encode(f, wire, ec);
  if (ec) {
    WSPULSE_FUZZ_CHECK(ec == errc::invalid_payload, ec.message());
    WSPULSE_FUZZ_CHECK(wire.empty());
    WSPULSE_FUZZ_CHECK(!must_encode, f.payload);
    return;
  }
  WSPULSE_FUZZ_CHECK(strict_utf8(wire), wire);  // it travels in a text frame
  frame back;
  codec.decode(wire, back, ec);
  WSPULSE_FUZZ_CHECK(!ec, wire);
  WSPULSE_FUZZ_CHECK(back.id == f.id, wire);
  WSPULSE_FUZZ_CHECK(back.event == f.event, wire);
  WSPULSE_FUZZ_CHECK(back.payload == trim_json_space(f.payload), wire);
}

void check_validators_agree(std::string_view payload) {
  std::string_view fast;
  std::string_view reader;
  const bool fast_ok = wspulse::detail::json_validate_payload(payload, 1, fast);
  const bool reader_ok = wspulse::detail::json_parse_payload(payload, reader);
  WSPULSE_FUZZ_CHECK(fast_ok == reader_ok, payload);
  if (fast_ok) WSPULSE_FUZZ_CHECK(fast.data() == reader.data() && fast.size() == reader.size());
}

void fuzz_decode(std::string_view message) {
  frame f{"stale id", "stale event", "\"stale\""};  // decode overwrites every field
  std::error_code ec;
  codec.decode(message, f, ec);
  if (ec) {
    WSPULSE_FUZZ_CHECK(ec == errc::decode_failed, ec.message());
    WSPULSE_FUZZ_CHECK(f.id.empty() && f.event.empty() && f.payload.empty());
    return;
  }
  WSPULSE_FUZZ_CHECK(strict_utf8(f.id) && strict_utf8(f.event) && strict_utf8(f.payload));
  WSPULSE_FUZZ_CHECK(trim_json_space(f.payload).size() == f.payload.size(), f.payload);
  check_round_trip(f, true);  // what decode accepts, encode accepts
}

// A JSON value from the bytes: every branch valid, nesting bounded well below max_depth.
void build_json(byte_reader& in, std::string& out, int depth) {
  const std::uint8_t kind = in.byte();
  const auto spaces = [&] {
    if (in.byte() & 1) out.append(" \t\n\r", 1 + in.byte() % 4);
  };
  switch (depth >= 32 ? kind % 5 : kind % 7) {
    case 0: out += "null"; break;
    case 1: out += (kind & 0x80) ? "true" : "false"; break;
    case 2: {  // a number: sign, digits, fraction, exponent (|exponent| < 100: in range)
      if (kind & 0x80) out += '-';
      const std::uint8_t digits = in.byte();
      out += std::to_string(digits % 2 ? digits : 0);
      if (kind & 0x40) out += "." + std::to_string(in.byte());
      if (kind & 0x20)
        out += "e" + std::string(kind & 0x10 ? "-" : "+") + std::to_string(in.byte() % 100);
      break;
    }
    case 3:
    case 4: {  // a string: plain ASCII, escapes, multi-byte UTF-8, surrogate pairs
      out += '"';
      for (std::uint8_t n = in.byte() % 24; n > 0; --n) {
        const std::uint8_t b = in.byte();
        static const char hex[] = "0123456789abcdef";
        if (b < 0x20) {
          out += "\\u00";
          out += hex[b >> 4];
          out += hex[b & 15];
        } else if (b == '"' || b == '\\') {
          out += '\\';
          out += static_cast<char>(b);
        } else if (b < 0x7f) {
          out += static_cast<char>(b);
        } else if (b < 0xa0) {                            // two-byte form
          const unsigned cp = 0x80u + (b - 0x7fu) * 59u;  // <= 0x7e0
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (b < 0xe0) {  // three-byte form, avoiding the surrogate range
          const unsigned cp = 0xE000u + (b - 0xa0u) * 97u;
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (b < 0xf0) {  // a four-byte character
          out += "\xF0\x9F\x98";
          out += static_cast<char>(0x80 | (b & 0x3F));
        } else {  // the same as an escaped surrogate pair
          out += "\\ud83d\\ude";
          out += hex[b & 15];
          out += '0';
        }
      }
      out += '"';
      break;
    }
    case 5: {  // an array
      out += '[';
      for (std::uint8_t n = in.byte() % 5; n > 0; --n) {
        spaces();
        build_json(in, out, depth + 1);
        spaces();
        if (n > 1) out += ',';
      }
      out += ']';
      break;
    }
    default: {  // an object, keys possibly repeated
      out += '{';
      for (std::uint8_t n = in.byte() % 5; n > 0; --n) {
        spaces();
        out += "\"k" + std::to_string(in.byte() % 4) + "\"";
        spaces();
        out += ':';
        spaces();
        build_json(in, out, depth + 1);
        if (n > 1) out += ',';
      }
      out += '}';
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  const std::uint8_t mode = in.byte();
  switch (mode % 3) {
    case 0: fuzz_decode(in.rest()); break;
    case 1: {
      frame f;
      f.id = in.sized();
      f.event = in.sized();
      f.payload = in.rest();
      check_validators_agree(f.payload);
      check_round_trip(f, false);
      break;
    }
    default: {
      frame f;
      f.id = in.sized();
      f.event = in.sized();
      std::string payload;
      if (mode & 0x80) payload += ' ';  // surrounding white space is trimmed
      build_json(in, payload, 0);
      if (mode & 0x40) payload += "\n";
      f.payload = std::move(payload);
      check_validators_agree(f.payload);
      check_round_trip(f, strict_utf8(f.id) && strict_utf8(f.event));
    }
  }
  return 0;
}
