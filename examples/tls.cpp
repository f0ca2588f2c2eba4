// wss://: verify the server against a CA file of your own (a private CA, or a self-signed
// development certificate), send one frame and wait for its echo. Without tls_ca_file the
// system's trust store is used; tls_verify(false) would skip verification (never in
// production: the client logs a warning). Needs a build with -DWSPULSE_CLIENT_ENABLE_TLS and
// -lssl -lcrypto (CMake: WSPULSE_CLIENT_ENABLE_TLS=ON; meson: -Dtls=enabled).
//
//   wspulse-example-tls wss://127.0.0.1:port/ws?room=r1 ca.crt
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <chrono>
#include <future>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " wss://host:port/ws?room=r1 ca.crt\n";
    return 2;
  }
  std::promise<void> echoed;
  wspulse::options opts;
  opts.tls_ca_file(argv[2])  // the server's certificate must chain to it and name the host
      .on_message([&](const wspulse::frame& f) {
        std::cout << "<- " << f.event << " " << f.payload << "\n";
        if (f.event == "tls.hello") echoed.set_value();  // a server may send others first
      });
  wspulse::reason why;
  auto client = wspulse::dial(argv[1], opts, why);
  if (!client) {  // e.g. tls_handshake_failed, with the certificate problem in the reason
    std::cerr << "dial failed: " << why.message() << "\n";
    return 1;
  }
  std::cout << "-> tls.hello {\"secure\":true}\n";
  if (auto ec = client.send({"1", "tls.hello", R"({"secure":true})"})) {
    std::cerr << "send failed: " << ec.message() << "\n";
    return 1;
  }
  const bool ok =
      echoed.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  client.close();
  return ok ? 0 : 1;
}
