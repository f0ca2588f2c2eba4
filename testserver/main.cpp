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
    "                          [--max-message N] [--help]\n"
    "\n"
    "A wspulse-compatible WebSocket test server on 127.0.0.1.\n"
    "  --port N           WebSocket port (default 0 = ephemeral)\n"
    "  --control-port N   HTTP control API port (default 0 = ephemeral)\n"
    "  --ping-ms N        server ping period in ms (default 20000; 0 = no pings)\n"
    "  --pong-ms N        pong deadline after a ping in ms (default 10000; 0 = none)\n"
    "  --max-message N    inbound message limit in bytes, close 1009 above (default 1048576;\n"
    "                     0 = no limit)\n"
    "Prints `READY <ws-port> <control-port>` on stdout once accepting. Stops on SIGTERM/SIGINT.\n"
    "Control API (JSON answers {\"ok\":true} / {\"ok\":false,\"error\":...}):\n"
    "  GET /health  GET /connections?room=R  GET /received?id=X  GET /accepted\n"
    "  POST /kick?id=X[&code=C&reason=R]  POST /drop?id=X  POST /send?id=X (body: frame)\n"
    "  POST /broadcast?room=R (body: frame)  POST /shutdown  POST /restart\n"
    "  POST /stall?id=X&ms=N  POST /mute?id=X  POST /clear_received\n";

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
    } else if (arg == "--max-message") {
      ok = parse_number(next, std::numeric_limits<long long>::max(), value);
      options.max_message = static_cast<std::size_t>(value);
    } else {
      std::fprintf(stderr, "wspulse-testserver: unknown argument '%s'\n\n%s", arg.c_str(),
                   usage_text);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "wspulse-testserver: %s needs a non-negative number\n\n%s", arg.c_str(),
                   usage_text);
      return 2;
    }
  }

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
