// wspulse_client — a wspulse-compatible WebSocket test server (websocketpp + standalone Asio)
// with an in-process control API and an HTTP control API. Used by the client tests, the demo,
// the benchmarks and the `wspulse-testserver` program.
// Declarations only: the implementation is testserver/wspulse_testserver.cpp, compiled once
// (the wspulse_testserver library of the CMake and meson builds) instead of in every test file.
// SPDX-License-Identifier: MIT
//
// Wire behaviour follows the public wspulse hub (github.com/wspulse/hub v0.12.1, measured:
// behaviour.md § "The hub on the wire"); the defaults are the hub's, options vary them:
// - Upgrade on any path. Query: `room` (default "default"), `id` (random UUID when absent;
//   a second connection with an id that is connected replaces the first, which is closed with
//   1000 "duplicate connection id"), `reject=<status>` (refuse the upgrade with that HTTP
//   status), `token` (accepted as is, except `token=bad`: 401, like a refused ConnectFunc).
//   After shutdown() began, upgrades are refused with 503.
// - Every message a client sends (text or binary) is broadcast, as the exact bytes received,
//   in a text frame to every connection of its room, the sender included. A message that is
//   not a JSON object is dropped (not broadcast) and the connection stays open: the hub logs
//   "decode failed" and goes on reading. Every message is recorded for received() either way.
// - Closing (kick, duplicate id, shutdown): the close frame is written and TCP is closed at once,
//   without waiting for the client's answer. close_mode::no_frame closes TCP without writing the
//   frame; close_mode::random does that one time in three (seeded), as the hub does.
//   WSPULSE_TESTSERVER_CLOSE=frame|no_frame|random sets the default of server_options::close.
// - Heartbeat: a ping on connect and every ping_ms. Only a pong answers it (the hub waits for
//   the pong of each ping; data frames do not count). No pong within pong_ms after a ping →
//   the TCP connection is closed without a close frame (the hub's CloseNow). ping_ms must
//   exceed pong_ms (the hub refuses to start otherwise; so does the constructor).
// - An inbound message over max_message (default 512 bytes, the hub's) → close 1009.
// - Outbound frames wait in a per-connection buffer of send_buffer frames (default 256) while
//   the socket is backed up (a stalled reader); a frame sent to a full buffer pushes out the
//   oldest (counted: dropped()).
// - Answering requests (server_options::answer_requests, or `answer=1` in the upgrade query):
//   after broadcasting a frame, the server sends its sender, and only it, an answer
//   `{"id":<the frame's id, if any>,"event":"<event>.ack","payload":<its payload, if any>}`
//   ("ack" for a frame without an event), as a hub application answering a request would.
// - resume_ms > 0: a connection whose transport died (drop, missed pong, client gone; not a
//   kick, duplicate or shutdown) keeps its session that long; frames sent to it meanwhile are
//   buffered and written, in order, to the next connection with the same id, before anything
//   newer. After the window the session and its frames are gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspulse::testing {

/// How the server ends a connection it closes (kick, duplicate id, shutdown).
enum class close_mode {
  frame,     ///< write the close frame, then close TCP at once (no wait for the answer)
  no_frame,  ///< close TCP without writing the close frame
  random,    ///< no_frame one time in three, frame otherwise (seeded by close_seed)
};

/// Settings of a test_server. Every value can be changed per instance.
struct server_options {
  std::uint16_t port = 0;          ///< WebSocket port on 127.0.0.1; 0 = ephemeral
  int ping_ms = 20000;             ///< server ping period; <= 0 disables pings
  int pong_ms = 10000;             ///< pong deadline after each ping; <= 0 = no deadline
  std::size_t max_message = 512;   ///< inbound limit per message (close 1009); 0 = none
  std::uint16_t control_port = 0;  ///< HTTP control port on 127.0.0.1; 0 = ephemeral
  std::size_t send_buffer = 256;   ///< outbound frames per connection; full → drop oldest
  int resume_ms = 0;               ///< session resume window; <= 0 = no resume
  /// Default close behaviour; unset: $WSPULSE_TESTSERVER_CLOSE, else close_mode::frame.
  std::optional<close_mode> close;
  std::uint64_t close_seed = 1;  ///< seed of close_mode::random
  /// Answer every frame to its sender (after the room's echo); per connection: `answer=1`.
  bool answer_requests = false;
};

/// Parses "frame", "no_frame" or "random"; nothing for any other text.
inline std::optional<close_mode> parse_close_mode(std::string_view text) {
  if (text == "frame") return close_mode::frame;
  if (text == "no_frame") return close_mode::no_frame;
  if (text == "random") return close_mode::random;
  return std::nullopt;
}

/// One open connection as the server sees it.
struct connection_info {
  /// `id` query value, or a random UUID
  std::string id;
  /// `room` query value, or "default"
  std::string room;
  /// headers of the upgrade request, as received
  std::vector<std::pair<std::string, std::string>> headers;
  /// raw query string of the upgrade request (without '?')
  std::string query;
  /// frames of this connection pushed out of its full send buffer
  std::size_t dropped = 0;
};

/// A wspulse-compatible WebSocket server on its own io thread, bound to 127.0.0.1.
///
/// Every public member is thread-safe: it runs on the io thread and waits for the result.
/// Do not call them from inside the server's own io thread (nothing of yours runs there).
/// Several instances may live in one process; there is no global state.
class test_server {
 public:
  /// Binds the WebSocket and control ports; accepting when it returns.
  /// @throws std::system_error when a port cannot be bound; std::invalid_argument when
  /// ping_ms does not exceed pong_ms (both > 0), send_buffer is 0, or
  /// $WSPULSE_TESTSERVER_CLOSE is set to something else than frame, no_frame or random.
  explicit test_server(server_options options = {});
  /// Aborts every connection (no close frames; call shutdown() first for those), stops the io
  /// thread and joins it.
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t control_port() const noexcept { return control_port_; }
  /// "ws://127.0.0.1:<port>" + path_and_query.
  std::string url(std::string_view path_and_query = "/ws") const;

  // The bool results tell whether a connection with that id was open.
  /// Closes with (code, reason) as `mode` says (unset: server_options::close).
  /// @throws std::invalid_argument for a code that may not be sent (< 1000, 1004-1006, 1015,
  /// > 4999).
  bool kick(std::string_view id, std::uint16_t code = 1000, std::string_view reason = "kicked",
            std::optional<close_mode> mode = std::nullopt);
  /// TCP reset (SO_LINGER 0 + close): no close frame. Not a kick: with resume_ms the session
  /// is kept.
  bool drop(std::string_view id);
  /// Sends text as one text frame, unvalidated (so tests can send malformed frames). A session
  /// kept for resume takes it too (true).
  bool send(std::string_view id, std::string_view json_frame);
  /// Sends text to every open connection (and kept session) of room ("" = "default"); returns
  /// how many took it.
  std::size_t broadcast(std::string_view room, std::string_view json_frame);
  /// Closes every connection with 1001 "server shutting down" as `mode` says (unset:
  /// server_options::close); upgrades get 503 until restart().
  void shutdown(std::optional<close_mode> mode = std::nullopt);
  /// Accepts upgrades again (same port: the listener never stops).
  void restart();
  /// Stops reading from that connection for ms (its writes back up in TCP); messages already
  /// read but not yet handled are held back too and handled, in order, when the stall ends.
  /// ms <= 0 ends a stall now. A new call replaces the running stall's deadline.
  bool stall(std::string_view id, int ms);
  /// Stops answering that connection's pings.
  bool mute(std::string_view id);
  /// Open connections of room, all rooms when empty; sorted by id.
  std::vector<connection_info> connections(std::string_view room = {}) const;
  /// Every message received from that id, in order, across reconnects of the same id.
  std::vector<std::string> received(std::string_view id) const;
  void clear_received();
  /// Upgrades accepted since construction.
  std::size_t accepted_count() const;
  /// Frames to that id pushed out of a full send buffer, across reconnects, until
  /// clear_received().
  std::size_t dropped(std::string_view id) const;

 private:
  class core;
  std::unique_ptr<core> core_;
  std::uint16_t port_ = 0;
  std::uint16_t control_port_ = 0;
};

}  // namespace wspulse::testing
