// Metrics: a client reporting to counting_metrics, printed in the Prometheus text format (what
// a /metrics endpoint of the application would serve). The Metrics policy is the client's 7th
// template parameter; with the default, null_metrics, every hook compiles away.
//
//   wspulse-example-metrics 'ws://127.0.0.1:PORT/ws?room=r1'
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

using metered_client =
    wspulse::basic_client<wspulse::json_codec, wspulse::null_logger, wspulse::exponential_backoff<>,
                          wspulse::heartbeat<>, wspulse::buffer_bounds<>, wspulse::callback_thread,
                          wspulse::counting_metrics>;

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " 'ws://host:port/ws?room=r1'\n";
    return 2;
  }
  constexpr int frames = 10;
  std::mutex mu;
  std::condition_variable cv;
  int echoes = 0;

  wspulse::counting_metrics metrics;  // copies share the counters: keep one to read
  metered_client::options opts;
  opts.metrics(metrics)
      .heartbeat(100ms, 2s, 1s)  // ping often, so the example shows round trips
      .on_message([&](const wspulse::frame&) {
        std::lock_guard<std::mutex> lock(mu);
        ++echoes;
        cv.notify_one();
      });
  wspulse::reason why;
  auto client = metered_client::dial(argv[1], opts, why);
  if (!client) {
    std::cerr << "dial failed: " << why.message() << "\n";
    return 1;
  }
  for (int i = 0; i < frames; ++i) {
    if (std::error_code ec = client.send({"", "tick", std::to_string(i)})) {
      std::cerr << "send: " << ec.message() << "\n";
      return 1;
    }
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, 5s, [&] { return echoes == frames; })) {
      std::cerr << "got " << echoes << " of " << frames << " echoes\n";
      return 1;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (metrics.read().pongs == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);  // a demo waiting for its first ping's pong
  client.close();
  std::cout << wspulse::to_prometheus(metrics.read(), "app_ws");
  return 0;
}
