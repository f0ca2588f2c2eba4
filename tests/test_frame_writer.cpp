// wspulse_client tests — outbound frames the client prepares itself (detail/frame_writer.hpp):
// masking against the byte-at-a-time definition, and the header websocketpp's parser reads.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse/detail/frame_writer.hpp>

#include <websocketpp/config/core_client.hpp>

#include <cstdint>
#include <cstring>
#include <string>

namespace {

using message = websocketpp::config::core_client::message_type;
namespace frame = websocketpp::frame;

std::string masked_by_definition(const std::string& in, std::uint32_t key) {
  unsigned char k[4];
  std::memcpy(k, &key, 4);
  std::string out(in.size(), '\0');
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = static_cast<char>(in[i] ^ k[i % 4]);
  return out;
}

std::string sample(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 37 + 11) & 0xFF);
  return s;
}

}  // namespace

TEST_SUITE("frame writer") {
  TEST_CASE("mask_into equals RFC 6455's byte-by-byte masking at every length and offset") {
    const std::uint32_t key = 0xA1B2C3D4u;
    const std::string data = sample(67);
    for (std::size_t offset = 0; offset < 8; ++offset) {
      for (std::size_t n = 0; offset + n <= data.size(); ++n) {
        const std::string in = data.substr(offset, n);
        std::string out(n, '\0');
        wspulse::detail::mask_into(data.data() + offset, out.data(), n, key);
        REQUIRE(out == masked_by_definition(in, key));
      }
    }
  }

  TEST_CASE("a prepared frame has a masked header websocketpp reads back, at each length form") {
    for (std::size_t n : {std::size_t{0}, std::size_t{125}, std::size_t{126}, std::size_t{65535},
                          std::size_t{65536}}) {
      CAPTURE(n);
      const std::string payload = sample(n);
      const std::uint32_t key = 0x01020304u;
      auto msg = wspulse::detail::prepared_frame<message>(frame::opcode::text, payload, key);
      REQUIRE(msg->get_prepared());
      CHECK(msg->get_opcode() == frame::opcode::text);
      const std::string& header = msg->get_header();
      REQUIRE(header.size() >= 2);
      frame::basic_header basic(static_cast<std::uint8_t>(header[0]),
                                static_cast<std::uint8_t>(header[1]));
      CHECK(frame::get_fin(basic));
      CHECK(frame::get_masked(basic));
      CHECK(frame::get_opcode(basic) == frame::opcode::text);
      const std::size_t basic_len = frame::get_basic_size(basic);
      const std::size_t expected_header = 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + 4;
      REQUIRE(header.size() == expected_header);
      frame::extended_header extended;
      std::memcpy(extended.bytes, header.data() + 2, header.size() - 2);
      CHECK(frame::get_payload_size(basic, extended) == n);
      CHECK(basic_len == (n < 126 ? n : n < 65536 ? 126 : 127));
      std::uint32_t wire_key = 0;
      std::memcpy(&wire_key, header.data() + header.size() - 4, 4);
      CHECK(msg->get_payload() == masked_by_definition(payload, wire_key));
      CHECK(wire_key == key);
    }
  }
}
