// The program every consumer project in tests/consumers/ builds: it proves that the way the
// project took the library in compiles, links and talks to a server. Dials the URL in argv[1],
// sends one frame, waits (5 s at most) for the server's broadcast of it, closes.
// Exit 0 only when the frame came back.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <future>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/path\n";
    return 2;
  }
  std::promise<wspulse::frame> echoed;
  auto echo = echoed.get_future();
  wspulse::options opts;
  opts.on_message([&, done = false](const wspulse::frame& f) mutable {
    if (!done) echoed.set_value(f);
    done = true;
  });
  wspulse::reason why;
  auto client = wspulse::client::dial(argv[1], opts, why);
  if (!client) {
    std::cerr << "consumer: dial failed: " << why.message() << "\n";
    return 1;
  }
  if (auto ec =
          client.send({"c-1", "consumer.hello", "{\"v\":\"" WSPULSE_CLIENT_VERSION_STRING "\"}"})) {
    std::cerr << "consumer: send failed: " << ec.message() << "\n";
    return 1;
  }
  if (echo.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    std::cerr << "consumer: no echo within 5 s\n";
    return 1;
  }
  const wspulse::frame f = echo.get();
  client.close();
  std::cout << "consumer: echoed " << f.event << " " << f.payload << "\n";
  return f.event == "consumer.hello" ? 0 : 1;
}
