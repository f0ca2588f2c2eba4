// The minimal client tools/footprint.sh measures: dials N clients to the URL in argv[1], has
// each get one frame echoed, then prints the process's RSS and thread count while all N are
// connected, and closes them. The policies come from macros, so one source gives every variant:
//   FOOTPRINT_NULL_LOGGER   null_logger instead of json_logger
//   FOOTPRINT_NO_RECONNECT  no_reconnect instead of exponential_backoff<>
//   FOOTPRINT_NO_HEARTBEAT  no_heartbeat instead of heartbeat<>
//   FOOTPRINT_COUNTING_METRICS  counting_metrics instead of null_metrics
//
//   wspulse-footprint ws://host:port/ws?room=r [clients (1)]
//   -> "clients 1 rss_kb 4321 threads 3"
// Exit 0 only when every client got its frame back within 5 s.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

#ifdef FOOTPRINT_NULL_LOGGER
using logger = wspulse::null_logger;
#else
using logger = wspulse::json_logger;
#endif
#ifdef FOOTPRINT_NO_RECONNECT
using backoff = wspulse::no_reconnect;
#else
using backoff = wspulse::exponential_backoff<>;
#endif
#ifdef FOOTPRINT_NO_HEARTBEAT
using keepalive = wspulse::no_heartbeat;
#else
using keepalive = wspulse::heartbeat<>;
#endif
#ifdef FOOTPRINT_COUNTING_METRICS
using metrics = wspulse::counting_metrics;
#else
using metrics = wspulse::null_metrics;
#endif
using footprint_client =
    wspulse::basic_client<wspulse::json_codec, logger, backoff, keepalive, wspulse::buffer_bounds<>,
                          wspulse::callback_thread, metrics>;

// "VmRSS:" (kB) and "Threads:" from /proc/self/status (Linux).
void print_status(std::size_t clients) {
  std::ifstream status("/proc/self/status");
  std::string key, rss = "?", threads = "?";
  while (status >> key) {
    if (key == "VmRSS:") status >> rss;
    if (key == "Threads:") status >> threads;
    status.ignore(1 << 12, '\n');
  }
  std::cout << "clients " << clients << " rss_kb " << rss << " threads " << threads << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/path [clients]\n";
    return 2;
  }
  const std::size_t count = argc == 3 ? std::strtoul(argv[2], nullptr, 10) : 1;
  std::vector<std::unique_ptr<std::promise<void>>> echoed;
  std::vector<footprint_client> clients;
  for (std::size_t i = 0; i < count; ++i) {
    echoed.push_back(std::make_unique<std::promise<void>>());
    footprint_client::options opts;
    opts.on_message([done = echoed.back().get(), first = true](const wspulse::frame&) mutable {
      if (first) done->set_value();
      first = false;
    });
    const std::string id = "fp-" + std::to_string(i);
    wspulse::reason why;
    clients.push_back(footprint_client::dial(std::string(argv[1]) + "&id=" + id, opts, why));
    if (!clients.back()) {
      std::cerr << "footprint: dial failed: " << why.message() << "\n";
      return 1;
    }
    // Each client in its own room would need N rooms; one room echoes to all, first one counts.
    if (auto ec = clients.back().send({id, "footprint.hello", "{}"})) {
      std::cerr << "footprint: send failed: " << ec.message() << "\n";
      return 1;
    }
  }
  for (auto& e : echoed) {
    if (e->get_future().wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      std::cerr << "footprint: no echo within 5 s\n";
      return 1;
    }
  }
  print_status(count);
  for (auto& c : clients) c.close();
  return 0;
}
