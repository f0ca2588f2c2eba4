// wspulse_client benchmark — how fast the client comes back, and what faults cost.
//
// 1. Reconnect latency: the bundled server kicks the client (close 1000); the time from the
//    kick to on_transport_restore, p50/p99 over many kicks. The backoff policy here waits 0 ms,
//    so the figure is the client's own cost (close handshake, TCP connect, upgrade) with no
//    backoff delay in it. Target: <= 5 ms on loopback.
// 2. Throughput (1 KiB frames) with no fault and with a kick every second, alternating runs:
//    frames accepted by send() per second (the queue is bounded and a frame leaves it only once
//    written, so this is the client's write rate) and echoes received per second (this also
//    includes the bundled server's unbounded echo queue, which every kick empties).
//
//   wspulse-bench-reconnect            (make bench runs it)
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "wspulse_testserver.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// Redial at once: the measurement must not contain a backoff delay.
struct zero_backoff : wspulse::exponential_backoff<> {
  template <class Rng>
  static wspulse::milliseconds delay(unsigned, wspulse::milliseconds, wspulse::milliseconds, Rng&) {
    return wspulse::milliseconds{0};
  }
};

using bench_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger, zero_backoff,
                                           wspulse::heartbeat<>, wspulse::buffer_bounds<4096>>;

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (!pred()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

bool server_has(const wspulse::testing::test_server& server, const std::string& id) {
  for (const auto& c : server.connections())
    if (c.id == id) return true;
  return false;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

void reconnect_latency(int kicks) {
  wspulse::testing::test_server server;
  std::atomic<int> restores{0};
  std::atomic<clock_type::rep> restored_at{0};
  bench_client::options opts;
  opts.auto_reconnect().on_transport_restore([&] {
    restored_at = clock_type::now().time_since_epoch().count();
    ++restores;
  });
  auto c = bench_client::dial(server.url("/ws?id=rc"), opts);
  std::vector<double> ms;
  for (int i = 0; i < kicks; ++i) {
    if (!wait_for([&] { return server_has(server, "rc"); }, std::chrono::seconds(5))) break;
    const int before = restores.load();
    const auto t0 = clock_type::now();
    server.kick("rc");
    if (!wait_for([&] { return restores.load() > before; }, std::chrono::seconds(5))) break;
    const auto t1 = clock_type::time_point(clock_type::duration(restored_at.load()));
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  c.close();
  if (ms.empty()) {
    std::printf("reconnect latency: no restore observed\n");
    return;
  }
  std::printf("reconnect latency (kick -> on_transport_restore, 0 ms backoff), %zu kicks:\n",
              ms.size());
  std::printf("  p50 %.2f ms   p99 %.2f ms   max %.2f ms   (target p50 <= 5 ms)\n",
              percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0));
}

struct rates {
  double sent = 0, echoed = 0;
  int drops = 0;
};

// Frames/s over `seconds`, kicking the client every `kick_every` (0 = never).
rates throughput(int seconds, std::chrono::milliseconds kick_every) {
  wspulse::testing::server_options so;
  so.max_message = 0;  // 1 KB frames, above the hub's default 512-byte limit
  wspulse::testing::test_server server(so);
  std::atomic<long> echoes{0};
  std::atomic<int> drops{0};
  bench_client::options opts;
  opts.auto_reconnect()
      .on_message([&](const wspulse::frame&) { ++echoes; })
      .on_transport_drop([&](const wspulse::reason&) { ++drops; });
  auto c = bench_client::dial(server.url("/ws?id=tp"), opts);
  const std::string payload = "\"" + std::string(1000, 'x') + "\"";
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  std::thread sender([&] {
    const wspulse::frame f{"", "bench", payload};
    while (!stop) {
      if (c.send(f)) {
        std::this_thread::yield();  // full: let the I/O thread drain
      } else {
        ++sent;
      }
    }
  });
  const auto start = clock_type::now();
  const auto end = start + std::chrono::seconds(seconds);
  auto next_kick = start + kick_every;
  while (clock_type::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pacing the fault injector
    if (kick_every.count() > 0 && clock_type::now() >= next_kick) {
      server.kick("tp");
      next_kick += kick_every;
    }
  }
  rates r;
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  r.sent = static_cast<double>(sent.load()) / elapsed;
  r.echoed = static_cast<double>(echoes.load()) / elapsed;
  r.drops = drops.load();  // before close(), whose own drop is not a fault
  stop = true;
  sender.join();
  c.close();
  return r;
}

}  // namespace

int main() {
  std::printf("wspulse-bench-reconnect (bundled server in-process, loopback)\n\n");
  reconnect_latency(300);
  std::printf("\n");
  // Alternate the two cases so machine noise hits both alike; report medians of 3.
  std::vector<double> calm_sent, calm_echo, faulty_sent, faulty_echo;
  int faulty_drops = 0;
  for (int round = 0; round < 3; ++round) {
    const rates calm = throughput(3, std::chrono::milliseconds(0));
    const rates faulty = throughput(3, std::chrono::milliseconds(1000));
    calm_sent.push_back(calm.sent);
    calm_echo.push_back(calm.echoed);
    faulty_sent.push_back(faulty.sent);
    faulty_echo.push_back(faulty.echoed);
    faulty_drops = faulty.drops;
  }
  const double cs = percentile(calm_sent, 0.5), ce = percentile(calm_echo, 0.5);
  const double fs = percentile(faulty_sent, 0.5), fe = percentile(faulty_echo, 0.5);
  std::printf("throughput, 1 KiB frames, 3 s per run, median of 3 alternating runs:\n");
  std::printf("                     sent/s      echoes/s\n");
  std::printf("  no faults          %9.0f   %9.0f\n", cs, ce);
  std::printf("  kick every second  %9.0f   %9.0f   (%d drops per run)\n", fs, fe, faulty_drops);
  std::printf("  ratio              %9.2f   %9.2f\n", fs / cs, fe / ce);
  return 0;
}
