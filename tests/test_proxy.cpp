// wspulse_client tests — dialling through an HTTP CONNECT proxy (options::proxy, issue 9 §4):
// the tunnel, Basic credentials (sent, never logged), a refusing proxy, a silent one, a bad
// proxy URL. The proxy is tests/support/connect_proxy.hpp on loopback. (wss:// through the
// proxy: test_tls.cpp.)
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/connect_proxy.hpp"
#include "support/fixtures.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::test_support::connect_proxy;
using wspulse::test_support::log_sink;
using wspulse::test_support::quiet_client;
using wspulse::test_support::quiet_options;
using wspulse::test_support::recorder;
using wspulse::test_support::server_knows;
using wspulse::test_support::wait_until;
using wspulse::testing::test_server;

namespace {
const std::string alice_basic = "Basic YWxpY2U6czNjcmV0";  // base64("alice:s3cret"), by hand
}  // namespace

TEST_SUITE("proxy") {
  TEST_CASE("ws:// through a CONNECT proxy: one tunnel per transport, frames flow") {
    test_server server(wspulse::test_support::closing_with_frame());
    connect_proxy proxy;
    recorder rec;
    quiet_options opts;
    SUBCASE("proxy named by IP") { opts.proxy(proxy.url()); }
    SUBCASE("proxy named by host name (the detached lookup)") {
      opts.proxy("http://localhost:" + std::to_string(proxy.port()) + "/");
    }
    opts.auto_reconnect(0, 20ms, 50ms);
    auto c = quiet_client::dial(server.url("/ws?room=px&id=p1"), rec.attach(opts));
    REQUIRE(c.send({"1", "via.proxy", "{}"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames()[0] == frame{"1", "via.proxy", "{}"});
    REQUIRE(proxy.requests().size() == 1);
    const std::string target = "127.0.0.1:" + std::to_string(server.port());
    CHECK(proxy.requests()[0].rfind("CONNECT " + target + " HTTP/1.1\r\nHost: " + target, 0) == 0);
    CHECK(proxy.requests()[0].find("Proxy-Authorization") == std::string::npos);
    // A reconnect dials through the proxy again.
    REQUIRE(server_knows(server, "p1"));
    REQUIRE(server.kick("p1"));
    REQUIRE(rec.wait_event_count("restore", 1));
    CHECK(proxy.tunnels() == 2);
    c.close();
  }

  TEST_CASE("Basic credentials go as Proxy-Authorization and never into the logs") {
    test_server server;
    connect_proxy proxy;
    proxy.require_authorization(alice_basic);
    const auto capture = log_sink::instance().capture();
    recorder rec;
    quiet_options opts;
    opts.proxy(proxy.url(), "alice", "s3cret");
    auto c = quiet_client::dial(server.url("/ws?room=px&id=p1"), rec.attach(opts));
    REQUIRE(c.send({"1", "e", "{}"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    c.close();
    CHECK(proxy.tunnels() == 1);
    REQUIRE(proxy.requests().size() == 1);
    CHECK(proxy.requests()[0].find("\r\nProxy-Authorization: " + alice_basic + "\r\n") !=
          std::string::npos);
    const auto lines = log_sink::instance().lines();
    CHECK_FALSE(lines.empty());  // the logger ran (connected, closed)
    for (const auto& line : lines) {
      CHECK(line.find("s3cret") == std::string::npos);
      CHECK(line.find("YWxpY2U6czNjcmV0") == std::string::npos);
    }
  }

  TEST_CASE(
      "a proxy that refuses: handshake_rejected with its status; the detail names the proxy") {
    test_server server;
    connect_proxy proxy;
    quiet_options opts;
    int status = 0;
    SUBCASE("407: no credentials") {
      proxy.require_authorization(alice_basic);
      opts.proxy(proxy.url());
      status = 407;
    }
    SUBCASE("407: wrong credentials") {
      proxy.require_authorization(alice_basic);
      opts.proxy(proxy.url(), "alice", "wrong");
      status = 407;
    }
    SUBCASE("403") {
      proxy.refuse_with(403);
      opts.proxy(proxy.url());
      status = 403;
    }
    reason why;
    auto c = quiet_client::dial(server.url("/ws?room=px"), opts, why);
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_rejected);
    CHECK(why.http_status == status);
    CHECK(why.detail.rfind(
              "proxy " + proxy.url() + ": refused the tunnel: " + std::to_string(status), 0) == 0);
    CHECK(why.message().find("wrong") == std::string::npos);
    CHECK(server.accepted_count() == 0);
  }

  TEST_CASE("a proxy that never answers: the dial fails with handshake_timeout, in time") {
    test_server server;
    connect_proxy proxy;
    proxy.go_silent();
    quiet_options opts;
    opts.proxy(proxy.url()).handshake_timeout(300ms);
    const auto start = std::chrono::steady_clock::now();
    reason why;
    auto c = quiet_client::dial(server.url("/ws?room=px"), opts, why);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_timeout);
    CHECK(took >= 300ms);
    CHECK(took < 3s);
    CHECK(proxy.requests().size() == 1);  // the CONNECT was read, never answered
  }

  TEST_CASE("no proxy listening: connection_lost with a detail naming the proxy") {
    test_server server;
    std::string url;
    {
      connect_proxy gone;
      url = gone.url();
    }  // its port is closed now
    quiet_options opts;
    opts.proxy(url);
    reason why;
    auto c = quiet_client::dial(server.url("/ws?room=px"), opts, why);
    CHECK_FALSE(c);
    CHECK(why.code == errc::connection_lost);
    CHECK(why.detail.rfind("proxy " + url + ": ", 0) == 0);
  }

  TEST_CASE("a bad proxy URL or bad credentials are refused when set, without echoing them") {
    quiet_options opts;
    for (const char* bad :
         {"", "https://127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://", "http://:3128",
          "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:x",
          "http://127.0.0.1:3128/path", "http://127.0.0.1:3128?q=1", "http://h st:3128",
          "http://alice:s3cret@127.0.0.1:3128", "http://[::1:3128", "http://127.0.0.1:"}) {
      CAPTURE(bad);
      try {
        opts.proxy(bad);
        FAIL("accepted");
      } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).rfind("wspulse: proxy: ", 0) == 0);
        CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
      }
    }
    CHECK_THROWS_AS(opts.proxy("http://127.0.0.1:3128", "", "pw"), std::invalid_argument);
    CHECK_THROWS_AS(opts.proxy("http://127.0.0.1:3128", "a:b", "pw"), std::invalid_argument);
    CHECK_THROWS_AS(opts.proxy("http://127.0.0.1:3128", "a", "p\r\nX: y"), std::invalid_argument);
    CHECK_FALSE(opts.proxy_settings());  // nothing was set by a refused call
    opts.proxy("HTTP://[::1]:3128/");
    CHECK(opts.proxy_settings().host == "::1");
    CHECK(opts.proxy_settings().display == "http://[::1]:3128");
    opts.proxy("http://proxy.example");
    CHECK(opts.proxy_settings().port == "80");
  }
}
