// wspulse_client — the message unit exchanged with a wspulse server.
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"

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
