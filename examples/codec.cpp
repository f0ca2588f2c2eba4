// Example: what a wspulse frame looks like on the wire.
// Builds a frame, encodes it with the default JSON codec, prints the text that would be sent,
// decodes that text back and prints the fields, then shows how an invalid payload is reported.
// No network needed.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <iostream>
#include <string>
#include <system_error>

int main() {
  const wspulse::json_codec codec;

  // A frame: the payload is raw JSON text, not a quoted string.
  wspulse::frame out;
  out.id = "msg-001";
  out.event = "chat.message";
  out.payload = R"({"text": "hello", "emoji": "👋"})";

  std::string wire;
  std::error_code ec;
  codec.encode(out, wire, ec);
  if (ec) {
    std::cerr << "encode failed: " << ec.message() << '\n';
    return 1;
  }
  std::cout << "wire text: " << wire << "\n\n";

  // What the client does with each inbound message.
  wspulse::frame in;
  codec.decode(wire, in, ec);
  if (ec) {
    std::cerr << "decode failed: " << ec.message() << '\n';
    return 1;
  }
  std::cout << "decoded frame:\n"
            << "  id      = " << in.id << '\n'
            << "  event   = " << in.event << '\n'
            << "  payload = " << in.payload << "   (raw JSON, exactly as received)\n"
            << "  same as what we sent: " << (in == out ? "yes" : "no") << "\n\n";

  // A payload must be one valid JSON value. Plain text is not: it would need quotes.
  wspulse::frame bad{"msg-002", "chat.message", "hello"};
  codec.encode(bad, wire, ec);
  std::cout << "encoding payload 'hello' (not JSON): error \"" << ec.message() << "\" ("
            << ec.category().name() << ':' << ec.value() << "), output is "
            << (wire.empty() ? "empty" : "NOT empty") << '\n';
  if (ec != wspulse::errc::invalid_payload) return 1;  // what client::send() would return

  // Bad inbound text is reported the same way, with errc::decode_failed.
  codec.decode(R"({"event": 42})", in, ec);
  std::cout << "decoding {\"event\": 42} (event must be a string): error \"" << ec.message()
            << "\"\n";
  return ec == wspulse::errc::decode_failed ? 0 : 1;
}
