// wspulse_client benchmark — peak resident memory under hostile or stuck peers, next to the
// bound the client is configured with (buffer_bounds<…>, max_message_size).
//
// Each scenario runs in a fresh child process (this program again with --child NAME), so the
// peak (VmHWM) is the scenario's own: the child dials one warm-up connection and closes it,
// resets VmHWM (/proc/self/clear_refs 5), reads VmRSS (the baseline), runs the scenario against
// a scripted raw-wire server in its own thread (tests/support/scripted_peer.hpp: it writes
// pre-built frames, so its memory is constant and small), and reports VmHWM - baseline.
//
// Scenarios (basic_client<json_codec, null_logger>, default bounds):
//   stalled-server  the server never reads (SO_RCVBUF 4 KiB): 16 KiB frames are sent until the
//                   send queue is full, and for 2 s more       bound: send frames x frame size
//   stuck-handler-small / -large  on_message blocks 3 s while the server writes 1 KiB
//                   (frame bound) or 256 KiB (byte bound) frames as fast as it can
//                                                              bound: inbound frames / bytes
//   huge-frame      the server announces a 4 GiB binary frame and streams bytes of it
//                                                              bound: max_message_size
//   ping-flood      the server writes 125-byte pings as fast as it can for 3 s and never
//                   reads (the pongs back up)                  bound: none of its own
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "../tests/support/child_process.hpp"
#include "../tests/support/proc_self.hpp"
#include "../tests/support/scripted_peer.hpp"
#include "../tests/support/wait_until.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using wspulse::test_support::peer_socket;
using wspulse::test_support::scripted_peer;
using wspulse::test_support::server_frame;

namespace {

using bench_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>;
using bounds = wspulse::buffer_bounds<>;
using steady = std::chrono::steady_clock;

struct outcome {
  std::string bound;  // the configured bound, in words
  long bound_kib = 0;
  std::string what;  // what the client reported
};

// Writes `frame` again and again for `d` (what the socket takes; never blocks longer); returns
// the bytes written.
long long write_repeatedly(peer_socket& peer, const std::string& frame,
                           std::chrono::milliseconds d) {
  const auto end = steady::now() + d;
  std::size_t at = 0;
  long long total = 0;
  while (steady::now() < end) {
    const long n = peer.write_some(std::string_view(frame).substr(at), end);
    if (n < 0) break;  // the client is gone
    total += n;
    at = (at + static_cast<std::size_t>(n)) % frame.size();
  }
  return total;
}

std::string mib(long long bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string quoted(std::size_t bytes) { return "\"" + std::string(bytes - 2, 'x') + "\""; }

bench_client::options quiet_options() {
  bench_client::options o;
  o.heartbeat(20s, 60s, 30s);  // the measurement, not the heartbeat, decides when a run ends
  return o;
}

std::string reason_text(const std::vector<wspulse::reason>& drops) {
  return drops.empty() ? "no drop" : "drop: " + drops.front().message();
}

outcome stalled_server() {
  constexpr std::size_t frame_bytes = 16 * 1024;
  std::atomic<bool> done{false};
  scripted_peer peer(  // reads nothing until the measurement is over
      [&](peer_socket&) { wspulse::test_support::wait_until([&] { return done.load(); }, 15s); },
      4096);
  auto opts = quiet_options();
  opts.heartbeat(20s, 60s, 5s);  // the stalled write times out after the measurement
  auto c = bench_client::dial(peer.url(), opts);
  const wspulse::frame f{"", "fill", quoted(frame_bytes)};
  long accepted = 0, refused = 0;
  const auto end = steady::now() + 5s;
  steady::time_point full_since{};
  while (steady::now() < end) {
    if (!c.send(f)) {
      ++accepted;
      continue;
    }
    ++refused;
    if (full_since == steady::time_point{}) full_since = steady::now();
    if (steady::now() - full_since > 2s) break;
    std::this_thread::sleep_for(1ms);  // a sender retrying a full queue
  }
  done = true;
  c.close();
  return {std::to_string(bounds::send_frames) + " frames x 16 KiB",
          static_cast<long>(bounds::send_frames * frame_bytes / 1024),
          std::to_string(accepted) + " accepted, " + std::to_string(refused) +
              " refused (send_buffer_full)"};
}

outcome stuck_handler(std::size_t frame_bytes) {
  const std::string frame =
      server_frame(1, "{\"event\":\"e\",\"payload\":" + quoted(frame_bytes - 24) + "}");
  std::atomic<long long> written{0};
  scripted_peer peer([&](peer_socket& p) { written = write_repeatedly(p, frame, 3s); });
  std::atomic<long> handled{0};
  auto opts = quiet_options();
  opts.on_message([&](const wspulse::frame&) {
    if (handled++ == 0) std::this_thread::sleep_for(3500ms);  // the stuck handler itself
  });
  auto c = bench_client::dial(peer.url(), opts);
  wspulse::test_support::wait_until([&] { return peer.finished(); }, 10s, 10ms);
  const long during = handled.load();
  c.close();
  const bool by_frames = bounds::inbound_frames * frame_bytes < bounds::inbound_bytes;
  return {by_frames ? std::to_string(bounds::inbound_frames) + " frames x " +
                          std::to_string(frame_bytes / 1024) + " KiB"
                    : std::to_string(bounds::inbound_bytes >> 20) + " MiB inbound bytes",
          static_cast<long>(by_frames ? bounds::inbound_frames * frame_bytes / 1024
                                      : bounds::inbound_bytes / 1024),
          std::to_string(during) + " handled while stuck; the server wrote " + mib(written) +
              " in 3 s"};
}

outcome huge_frame() {
  const std::string chunk(64 * 1024, 'x');
  std::atomic<long long> written{0};
  scripted_peer peer([&](peer_socket& p) {
    if (p.write_all(server_frame(2, "", std::uint64_t{4} << 30)))
      written = write_repeatedly(p, chunk, 3s);
  });
  std::vector<wspulse::reason> drops;
  std::mutex m;
  auto opts = quiet_options();
  opts.on_transport_drop([&](const wspulse::reason& r) {
    std::lock_guard<std::mutex> lock(m);
    drops.push_back(r);
  });
  auto c = bench_client::dial(peer.url(), opts);
  wspulse::test_support::wait_until([&] { return peer.finished(); }, 10s, 10ms);
  c.close();
  std::lock_guard<std::mutex> lock(m);
  return {"max_message_size " + std::to_string(bounds::max_message_bytes >> 20) + " MiB",
          static_cast<long>(bounds::max_message_bytes / 1024),
          "4 GiB announced, " + mib(written) + " of it written; " + reason_text(drops)};
}

outcome ping_flood() {
  const std::string ping = server_frame(9, std::string(125, 'p'));
  std::atomic<long long> written{0};
  scripted_peer peer([&](peer_socket& p) { written = write_repeatedly(p, ping, 3s); }, 4096);
  std::vector<wspulse::reason> drops;
  std::mutex m;
  auto opts = quiet_options();
  opts.on_transport_drop([&](const wspulse::reason& r) {
    std::lock_guard<std::mutex> lock(m);
    drops.push_back(r);
  });
  auto c = bench_client::dial(peer.url(), opts);
  wspulse::test_support::wait_until([&] { return peer.finished(); }, 10s, 10ms);
  c.close();
  std::lock_guard<std::mutex> lock(m);
  return {"none (pongs are not queued frames)", 0,
          mib(written) + " of pings in 3 s, pongs never read; " + reason_text(drops)};
}

// The warm-up: first-use costs (code pages, statics, the allocator's arenas) out of the figure.
void warm_up() {
  scripted_peer peer([](peer_socket& p) { p.wait_for_eof(5s); });
  auto c = bench_client::dial(peer.url(), quiet_options());
  (void)c.send({"", "warm", "1"});
  c.close();
}

int run_child(const std::string& name) {
  warm_up();
  const bool reset = static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5");
  const long base = wspulse::test_support::rss_kib();
  outcome o;
  if (name == "stalled-server")
    o = stalled_server();
  else if (name == "stuck-handler-small")
    o = stuck_handler(1024);
  else if (name == "stuck-handler-large")
    o = stuck_handler(256 * 1024);
  else if (name == "huge-frame")
    o = huge_frame();
  else if (name == "ping-flood")
    o = ping_flood();
  else
    return 2;
  const long peak = wspulse::test_support::peak_rss_kib();
  std::printf("RESULT %ld %ld %d %ld|%s|%s\n", base, peak, reset ? 1 : 0, o.bound_kib,
              o.bound.c_str(), o.what.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--child") == 0) return run_child(argv[2]);
  std::printf("command: %s\nmachine: %u cores\n", argv[0], std::thread::hardware_concurrency());
  std::printf(
      "bounds: buffer_bounds<send_frames %zu, max_message %zu MiB, inbound_frames %zu, "
      "inbound_bytes %zu MiB>\n",
      bounds::send_frames, bounds::max_message_bytes >> 20, bounds::inbound_frames,
      bounds::inbound_bytes >> 20);
  std::printf(
      "peak = VmHWM of a child running only that scenario, after a warm-up connection; "
      "growth = peak - VmRSS before the scenario\n\n");
  std::printf("%-20s %10s %10s %12s  %-36s %s\n", "scenario", "base KiB", "peak KiB", "growth KiB",
              "configured bound (KiB)", "what happened");
  const std::string self = "/proc/self/exe";
  char exe[4096] = {};
  const ssize_t n = ::readlink(self.c_str(), exe, sizeof exe - 1);
  if (n <= 0) return 1;
  int failures = 0;
  for (const char* name : {"stalled-server", "stuck-handler-small", "stuck-handler-large",
                           "huge-frame", "ping-flood"}) {
    wspulse::test_support::child_process child({exe, "--child", name});
    const auto line = child.first_line(60s);
    long base = 0, peak = 0, bound_kib = 0;
    int reset = 0;
    char rest[1024] = {};
    if (!line || std::sscanf(line->c_str(), "RESULT %ld %ld %d %ld|%1023[^\n]", &base, &peak,
                             &reset, &bound_kib, rest) != 5) {
      std::printf("%-20s FAILED (no result)\n", name);
      ++failures;
      continue;
    }
    std::string text = rest;
    const auto bar = text.find('|');
    const std::string bound = text.substr(0, bar);
    const std::string what = bar == std::string::npos ? "" : text.substr(bar + 1);
    std::printf("%-20s %10ld %10ld %12ld  %-36s %s%s\n", name, base, peak, peak - base,
                (bound + (bound_kib ? " (" + std::to_string(bound_kib) + ")" : "")).c_str(),
                what.c_str(), reset ? "" : " [VmHWM not reset: peak includes the warm-up]");
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
