// Chat with a wspulse server: prints every frame received, sends each line of stdin as a
// "chat.message" frame, and closes cleanly at end of input.
//
//   wspulse-example-chat [ws://host:port/ws?room=r1&token=xyz]
//
// Without a URL it starts the bundled test server in-process and talks to that.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "wspulse_testserver.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

namespace {

// A JSON string literal for the payload (the JSON codec sends payloads as raw JSON).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // drop control characters
    out += c;
  }
  return out + '"';
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<wspulse::testing::test_server> bundled;
  std::string url;
  if (argc > 1) {
    url = argv[1];
  } else {
    bundled = std::make_unique<wspulse::testing::test_server>();
    url = bundled->url("/ws?room=demo&id=chat-example");
  }

  std::mutex out_mu;  // callbacks run on the client's thread, the main loop on this one
  std::atomic<int> echoes{0};
  wspulse::options opts;
  opts.on_message([&](const wspulse::frame& f) {
        std::lock_guard<std::mutex> lock(out_mu);
        std::cout << "<- " << f.event << " " << f.payload << std::endl;
        ++echoes;
      })
      .on_transport_drop([&](const wspulse::reason& why) {
        std::lock_guard<std::mutex> lock(out_mu);
        std::cout << "-- transport dropped: " << why.message() << std::endl;
      })
      .on_transport_restore([&] {
        std::lock_guard<std::mutex> lock(out_mu);
        std::cout << "-- transport restored" << std::endl;
      })
      .on_disconnect([&](const wspulse::reason& why) {
        std::lock_guard<std::mutex> lock(out_mu);
        std::cout << "-- disconnected: " << why.message() << std::endl;
      })
      .auto_reconnect(5, std::chrono::milliseconds(500), std::chrono::seconds(5));

  wspulse::reason why;
  auto client = wspulse::client::dial(url, opts, why);
  if (!client) {
    std::cerr << "dial failed: " << why.message() << std::endl;
    return 1;
  }
  {
    std::lock_guard<std::mutex> lock(out_mu);
    std::cout << "-- connected to " << wspulse::redact_url(url) << std::endl;
  }

  int sent = 0;
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    const wspulse::frame f{"msg-" + std::to_string(sent + 1), "chat.message",
                           "{\"text\":" + json_string(line) + "}"};
    if (auto ec = client.send(f)) {
      std::cerr << "send failed: " << ec.message() << std::endl;
      continue;
    }
    ++sent;
    std::lock_guard<std::mutex> lock(out_mu);
    std::cout << "-> " << f.event << " " << f.payload << std::endl;
  }

  // End of input: give the server a moment to echo what we sent, then close.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (echoes.load() < sent && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  client.close();
  return 0;
}
