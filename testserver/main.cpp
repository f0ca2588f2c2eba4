// wspulse-testserver — runs the wspulse test server as a program, for test suites written in
// other languages and for manual checks. Prints `READY <ws-port> <control-port>` once accepting;
// stops cleanly (exit 0) on SIGTERM or SIGINT.
// SPDX-License-Identifier: MIT

#include "wspulse_testserver.hpp"

#include <cerrno>
#include <csignal>  // sigwait, pthread_sigmask: signals are taken synchronously
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <string>

#include <pthread.h>

namespace {

const char* const usage_text =
    "usage: wspulse-testserver [--port N] [--control-port N] [--ping-ms N] [--pong-ms N]\n"
    "                          [--max-message N] [--send-buffer N] [--resume DURATION]\n"
    "                          [--close frame|no_frame|random] [--close-seed N]\n"
    "                          [--answer-requests 0|1] [--help]\n"
    "\n"
    "A wspulse-compatible WebSocket test server on 127.0.0.1 (defaults as the wspulse hub's).\n"
    "  --port N           WebSocket port (default 0 = ephemeral)\n"
    "  --control-port N   HTTP control API port (default 0 = ephemeral)\n"
    "  --ping-ms N        server ping period in ms (default 20000; 0 = no pings)\n"
    "  --pong-ms N        pong deadline (the hub's write timeout) after a ping in ms (0 = none;\n"
    "                     default: half the ping period, 10000); the ping period must exceed it\n"
    "  --max-message N    inbound message limit in bytes, close 1009 above (default 512;\n"
    "                     0 = no limit)\n"
    "  --send-buffer N    outbound frames queued per connection; when full the oldest is\n"
    "                     dropped (default 256)\n"
    "  --resume DURATION  keep the session of a connection whose transport died (not kicked)\n"
    "                     for DURATION (e.g. 500ms, 2s; a plain number is ms; default 0 = off)\n"
    "                     and replay the frames sent to it meanwhile to the next connection\n"
    "                     with the same id\n"
    "  --close MODE       how kick, duplicate id and shutdown close: frame (close frame, then\n"
    "                     TCP closed at once; default, or $WSPULSE_TESTSERVER_CLOSE), no_frame\n"
    "                     (TCP closed without the frame), random (no_frame one time in three)\n"
    "  --close-seed N     seed of --close random (default 1)\n"
    "  --answer-requests 0|1  answer every frame to its sender, after the room's echo, with\n"
    "                     {id, event: <event>.ack, payload} (default 0; per connection: answer=1)\n"
    "Upgrade query: id=X room=R token=bad (-> 401) reject=STATUS (-> STATUS) answer=0|1;\n"
    "503 after shutdown.\n"
    "Prints `READY <ws-port> <control-port>` on stdout once accepting. Stops on SIGTERM/SIGINT.\n"
    "Control API (JSON answers {\"ok\":true} / {\"ok\":false,\"error\":...}):\n"
    "  GET /health  GET /connections?room=R  GET /received?id=X  GET /accepted\n"
    "  GET /dropped?id=X (frames pushed out of a full send buffer)\n"
    "  POST /kick?id=X[&code=C&reason=R&close=MODE]  POST /drop?id=X  POST /send?id=X (body:\n"
    "  frame)  POST /broadcast?room=R (body: frame)  POST /shutdown[?close=MODE]  POST /restart\n"
    "  POST /stall?id=X&ms=N  POST /mute?id=X  POST /clear_received\n";

// "500ms", "2s" or a plain number of milliseconds, up to max_ms.
bool parse_duration_ms(const char* text, long long max_ms, long long& out) {
  if (text == nullptr) return false;
  std::string t = text;
  long long scale = 1;
  if (t.size() > 2 && t.compare(t.size() - 2, 2, "ms") == 0) {
    t.resize(t.size() - 2);
  } else if (t.size() > 1 && t.back() == 's') {
    t.pop_back();
    scale = 1000;
  }
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 12) {
    return false;
  }
  const long long v = std::stoll(t) * scale;
  if (v > max_ms) return false;
  out = v;
  return true;
}

bool parse_number(const char* text, long long max, long long& out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0 || v > max) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  wspulse::testing::server_options options;
  bool pong_given = false;
  for (int i = 1; i < argc; i += 2) {  // every option but --help takes a value
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    }
    long long value = 0;
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = true;
    if (arg == "--port") {
      ok = parse_number(next, 65535, value);
      options.port = static_cast<std::uint16_t>(value);
    } else if (arg == "--control-port") {
      ok = parse_number(next, 65535, value);
      options.control_port = static_cast<std::uint16_t>(value);
    } else if (arg == "--ping-ms") {
      ok = parse_number(next, std::numeric_limits<int>::max(), value);
      options.ping_ms = static_cast<int>(value);
    } else if (arg == "--pong-ms") {
      ok = parse_number(next, std::numeric_limits<int>::max(), value);
      options.pong_ms = static_cast<int>(value);
      pong_given = true;
    } else if (arg == "--max-message") {
      ok = parse_number(next, std::numeric_limits<long long>::max(), value);
      options.max_message = static_cast<std::size_t>(value);
    } else if (arg == "--send-buffer") {
      ok = parse_number(next, 1 << 20, value) && value > 0;
      options.send_buffer = static_cast<std::size_t>(value);
    } else if (arg == "--resume") {
      ok = parse_duration_ms(next, std::numeric_limits<int>::max(), value);
      options.resume_ms = static_cast<int>(value);
    } else if (arg == "--close-seed") {
      ok = parse_number(next, std::numeric_limits<long long>::max(), value);
      options.close_seed = static_cast<std::uint64_t>(value);
    } else if (arg == "--answer-requests") {
      ok = parse_number(next, 1, value);
      options.answer_requests = value == 1;
    } else if (arg == "--close") {
      options.close = wspulse::testing::parse_close_mode(next ? next : "");
      if (!options.close) {
        std::fprintf(stderr, "wspulse-testserver: --close needs frame, no_frame or random\n\n%s",
                     usage_text);
        return 2;
      }
    } else {
      std::fprintf(stderr, "wspulse-testserver: unknown argument '%s'\n\n%s", arg.c_str(),
                   usage_text);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "wspulse-testserver: %s: invalid value '%s'\n\n%s", arg.c_str(),
                   next ? next : "", usage_text);
      return 2;
    }
  }

  // Without --pong-ms the deadline follows --ping-ms (half of it, as the defaults are), so an
  // older command line with only --ping-ms still starts.
  if (!pong_given) options.pong_ms = options.ping_ms / 2;

  // Block the stop signals before any thread exists, so every thread inherits the mask and
  // only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    wspulse::testing::test_server server(options);
    std::printf("READY %u %u\n", static_cast<unsigned>(server.port()),
                static_cast<unsigned>(server.control_port()));
    std::fflush(stdout);
    int received = 0;
    while (sigwait(&stop_signals, &received) != 0) {
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wspulse-testserver: %s\n", e.what());
    return 1;
  }
  return 0;
}
