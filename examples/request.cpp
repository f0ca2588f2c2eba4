// Request / acknowledge: send a frame and wait for the frame that answers it, with a timeout.
// Two ways to tell the answer:
// - by id (request): the answer carries the request's id. The server also echoes the request
//   to its room, sender included, with the same id: a frame equal to the request is never
//   taken for its answer.
// - by key (request_keyed): the hub drops `id`, so a hub application puts a correlation key in
//   the payload; options::answer_key says which inbound frames are answers, and to what.
// Run against the bundled test server with answer=1 (it answers every frame with
// `<event>.ack`, after the room's echo):
//
//   wspulse-example-request 'ws://127.0.0.1:PORT/ws?room=r1&answer=1'
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

// An answer is an "….ack" frame; its key is the payload's "req" member.
std::string answer_key(const wspulse::frame& f) {
  const std::string ack = ".ack", marker = "\"req\":\"";
  if (f.event.size() < ack.size() || f.event.compare(f.event.size() - ack.size(), ack.size(), ack))
    return {};  // the echo of a request, a broadcast, …: not an answer
  const auto at = f.payload.find(marker);
  const auto end = at == std::string::npos ? at : f.payload.find('"', at + marker.size());
  return end == std::string::npos ? std::string()
                                  : f.payload.substr(at + marker.size(), end - at - marker.size());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " 'ws://host:port/ws?room=r1&answer=1'\n";
    return 2;
  }
  wspulse::options opts;
  opts.answer_key(answer_key)
      .on_message([](const wspulse::frame& f) {  // echoes; never the answer of a request
        std::cout << "on_message: " << f.event << "\n";
      });
  wspulse::reason why;
  auto client = wspulse::dial(argv[1], opts, why);
  if (!client) {
    std::cerr << "dial failed: " << why.message() << "\n";
    return 1;
  }
  try {
    // By id: an empty id is replaced by a unique one.
    const wspulse::frame by_id =
        client.request({"", "order.create", R"({"item":"tea"})"}, 5s).get();
    std::cout << "answer by id: " << by_id.id << " " << by_id.event << " " << by_id.payload << "\n";

    // By key, as with the hub (no id on the wire).
    const wspulse::frame by_key =
        client.request_keyed("k-42", {"", "order.pay", R"({"req":"k-42","eur":3})"}, 5s).get();
    std::cout << "answer by key: " << by_key.event << " " << by_key.payload << "\n";
  } catch (const wspulse::request_error& e) {  // request_timeout, the drop's reason, …
    std::cerr << e.what() << "\n";
    return 1;
  }
  client.close();
  return 0;
}
