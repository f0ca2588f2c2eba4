// wspulse_client — outbound data frames, prepared by the client itself. websocketpp writes a
// message marked "prepared" as it is (connection::send(message_ptr)); otherwise it copies the
// payload into a second message, validates UTF-8 byte by byte and masks byte by byte (a `% 4`
// per byte). At 16 KiB that costs 43 µs a frame, 86 % of it the UTF-8 check and 15 % the
// masking (bench/micro/send_path.cpp; 0.7 µs here). Here: one copy, masked eight bytes at a time,
// and UTF-8 checked once, on the sender's thread, only for codecs that do not guarantee it.
// SPDX-License-Identifier: MIT
#pragma once

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
