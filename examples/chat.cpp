// Chat with a wspulse server: prints every frame received, sends each line of stdin as a
// "chat.message" frame, and closes cleanly at end of input (after the server has echoed what
// was sent, or 5 s).
//
//   wspulse-example-chat ws://host:port/ws?room=r1&token=xyz
//
// `make demo` starts the bundled test server and runs this against it (tools/demo.sh).
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
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
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/ws?room=r1&token=xyz\n";
    return 2;
  }
  const std::string url = argv[1];

  std::mutex mu;  // callbacks run on the client's thread, the main loop on this one
  std::condition_variable echoed;
  int echoes = 0;
  auto say = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    std::cout << line << std::endl;
  };
  wspulse::options opts;
  opts.on_message([&](const wspulse::frame& f) {
        say("<- " + f.event + " " + f.payload);
        std::lock_guard<std::mutex> lock(mu);
        ++echoes;
        echoed.notify_all();
      })
      .on_transport_drop([&](const wspulse::reason& why) {  // an empty reason: our own close
        say(why ? "-- transport dropped: " + why.message() : std::string("-- transport closed"));
      })
      .on_transport_restore([&] { say("-- transport restored"); })
      .on_disconnect([&](const wspulse::reason& why) { say("-- disconnected: " + why.message()); })
      .auto_reconnect(5, std::chrono::milliseconds(500), std::chrono::seconds(5));

  wspulse::reason why;
  auto client = wspulse::client::dial(url, opts, why);
  if (!client) {
    std::cerr << "dial failed: " << why.message() << std::endl;
    return 1;
  }
  say("-- connected to " + wspulse::redact_url(url));

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
    say("-> " + f.event + " " + f.payload);
  }

  {
    std::unique_lock<std::mutex> lock(mu);
    echoed.wait_for(lock, std::chrono::seconds(5), [&] { return echoes >= sent; });
  }
  client.close();
  return 0;
}
