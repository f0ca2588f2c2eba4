// Policies for a small device on a flaky link: everything below is fixed at compile time.
// Reconnect up to 10 times (250 ms doubling to 5 s), ping every 5 s and give up on the link
// after 15 s of silence, queue at most 16 frames and accept messages up to 16 KiB. No log
// output at all: null_logger compiles every log statement away. Callbacks on a thread of the
// client's that sleeps as soon as it is idle (no spinning: the CPU rests between frames).
//
//   wspulse-example-device ws://host:port/ws?room=r1
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <future>
#include <iostream>

using device_client =
    wspulse::basic_client<wspulse::json_codec,   //
                          wspulse::null_logger,  //
                          wspulse::exponential_backoff<10, 250, 5000>,
                          wspulse::heartbeat<5000, 15000, 2000>,  //
                          wspulse::buffer_bounds<16, 16 * 1024>, wspulse::basic_callback_thread<0>>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/ws?room=r1\n";
    return 2;
  }
  std::promise<void> echoed;
  device_client::options opts;
  opts.auto_reconnect()  // the Backoff policy's defaults; only compiles with a reconnecting one
      .on_message([&, first = true](const wspulse::frame& f) mutable {
        std::cout << "<- " << f.event << " " << f.payload << "\n";
        if (first) echoed.set_value();
        first = false;
      })
      .on_transport_drop(
          [](const wspulse::reason& r) { std::cout << "drop: " << r.message() << "\n"; });

  wspulse::reason why;
  auto client = device_client::dial(argv[1], opts, why);
  if (!client) {
    std::cerr << "dial failed: " << why.message() << "\n";
    return 1;
  }
  if (auto ec = client.send({"t-1", "sensor.reading", R"({"celsius":21.5})"})) {
    std::cerr << "send failed: " << ec.message() << "\n";  // e.g. the 16-frame queue is full
    return 1;
  }
  const bool ok =
      echoed.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  client.close();
  return ok ? 0 : 1;
}
