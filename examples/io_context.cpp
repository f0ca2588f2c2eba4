// Many clients on the application's own io_context, run by one thread (here: main), with
// callbacks inline on that thread: no thread per client. Client n dials the URL with "-n"
// appended (its own room when the URL ends in room=…), sends one frame, prints the echo and
// closes; io.run() returns once every client is done.
//
//   wspulse-example-io_context ws://host:port/ws?room=r1
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <asio/io_context.hpp>

#include <iostream>
#include <string>
#include <vector>

// Callbacks inline on the io_context's thread: they must not block.
using fast_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                          wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                          wspulse::buffer_bounds<>, wspulse::inline_callbacks>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/ws?room=r1\n";
    return 2;
  }
  constexpr int clients = 3;
  asio::io_context io(1);  // one thread runs it: the clients' strand
  std::vector<fast_client> live(clients);
  int echoed = 0;
  int failed = 0;
  for (int i = 0; i < clients; ++i) {
    const std::string url = std::string(argv[1]) + "-" + std::to_string(i);
    fast_client::options opts;
    opts.on_message([&, i](const wspulse::frame& f) {
      std::cout << "client " << i << " got [" << f.event << "] " << f.payload << "\n";
      ++echoed;
      live[i].async_close([i] { std::cout << "client " << i << " closed\n"; });
    });
    // The handler runs on io's thread once the first dial is over (an empty client on failure).
    fast_client::async_dial(io, url, std::move(opts), [&, i](wspulse::reason why, fast_client c) {
      if (why) {
        std::cerr << "client " << i << ": " << why.message() << "\n";
        ++failed;
        return;
      }
      live[i] = std::move(c);
      live[i].send({"", "hello", "{\"from\":" + std::to_string(i) + "}"});
    });
  }
  io.run();  // returns when every client has finished: nothing of them stays armed
  std::cout << echoed << " of " << clients << " echoed\n";
  return echoed == clients && failed == 0 ? 0 : 1;
}
