// Route received frames by event: a logging middleware, recovery() for handlers that throw,
// one handler per event and a fallback for the rest. Sends one frame of each kind; the server
// echoes them back to the router.
//
//   wspulse-example-router ws://host:port/ws?room=r1
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <future>
#include <iostream>
#include <stdexcept>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/ws?room=r1\n";
    return 2;
  }
  std::promise<void> all_seen;  // set by the last frame's handler
  wspulse::router r;
  // Register everything before dial(): registration is not thread-safe, dispatch() is.
  r.use([](wspulse::router::context& c) {
     std::cout << "[" << c.frame.event << "] ";
     c.next();
   })
      .use(wspulse::router::recovery([](wspulse::router::context&, std::exception_ptr e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::cout << "handler failed: " << ex.what() << "\n";
        }
      }))
      .on("chat.message",
          [](wspulse::router::context& c) { std::cout << "chat: " << c.frame.payload << "\n"; })
      .on("job.bad", [](wspulse::router::context&) -> void { throw std::runtime_error("bad job"); })
      .fallback([&](wspulse::router::context& c) {
        std::cout << "unrouted: " << c.frame.payload << "\n";
        if (c.frame.event == "done") all_seen.set_value();
      });

  wspulse::options opts;
  opts.on_message([&r](const wspulse::frame& f) { r.dispatch(f); });
  auto client = wspulse::dial(argv[1], opts);  // throws wspulse::dial_error
  client.send({"1", "chat.message", R"({"text":"hi"})"});
  client.send({"2", "job.bad", "{}"});
  client.send({"3", "done", "true"});
  const bool ok =
      all_seen.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  client.close();
  return ok ? 0 : 1;
}
