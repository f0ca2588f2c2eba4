// wspulse_client tests — basic_client against the bundled test server on loopback: the
// behaviour contract (behaviour.md § Tests) plus callback rules, reentrancy, limits, timeouts.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/fixtures.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::test_support::quiet_client;
using wspulse::test_support::quiet_options;
using wspulse::test_support::recorder;
using wspulse::test_support::server_knows;
using wspulse::test_support::wait_until;
using wspulse::testing::server_options;
using wspulse::testing::test_server;

namespace {

std::string payload_text(int i) { return "{\"n\":" + std::to_string(i) + "}"; }

// A TCP listener that accepts and never answers: the upgrade hangs.
class silent_listener {
 public:
  silent_listener() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
      if (!ec) held_.emplace(std::move(s));
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~silent_listener() {
    asio::post(io_, [this] {
      acceptor_.close();
      if (held_) held_->close();
    });
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::optional<asio::ip::tcp::socket> held_;
  std::thread thread_;
};

// Sends the payload bytes as they are, in text frames, and promises nothing about UTF-8.
struct raw_text_codec {
  static constexpr wspulse::wire_type wire = wspulse::wire_type::text;
  void encode(const frame& f, std::string& out, std::error_code& ec) const {
    out = f.payload;
    ec.clear();
  }
  void decode(std::string_view in, frame& out, std::error_code& ec) const {
    out = frame{};
    out.payload = std::string(in);
    ec.clear();
  }
};

}  // namespace

TEST_SUITE("client") {
  TEST_CASE("a text codec's invalid UTF-8 is refused by send() and blocks nothing behind it") {
    using raw_client = wspulse::basic_client<raw_text_codec, wspulse::test_support::sink_logger>;
    test_server server;
    raw_client c = raw_client::dial(server.url("/ws?room=utf8&id=u1"));
    REQUIRE(c);
    CHECK(c.send(frame{"", "", "{\"event\":\"\xff\xfe\"}"}) == errc::invalid_payload);
    REQUIRE(c.send(frame{"", "", R"({"id":"after","event":"ok"})"}) == std::error_code{});
    REQUIRE(wait_until([&] { return server.received("u1").size() == 1; }, 5s));
    CHECK(server.received("u1").front().find("after") != std::string::npos);
    CHECK(c.connected());
  }

  TEST_CASE("connect, send, receive the echo, close: drop then disconnect, no error") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=r1&id=c1"), rec.attach(opts));
    REQUIRE(c);
    CHECK(c.connected());
    const frame sent{"msg-001", "chat.message", R"({"text":"hello"})"};
    CHECK(c.send(sent) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames().front() == sent);
    c.close();
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    CHECK_FALSE(c.connected());
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK_FALSE(rec.drops().at(0));
    CHECK_FALSE(rec.disconnects().at(0));
    CHECK(rec.violations() == 0);
    c.close();  // idempotent
    CHECK(rec.lifecycle().size() == 2);
  }

  TEST_CASE("every frame field and payload type survives a round trip, in order") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=fields"), rec.attach(opts));
    const std::vector<frame> sent = {
        {"", "", ""},
        {"id-only", "", ""},
        {"", "event.only", ""},
        {"1", "obj", R"({"a":{"b":[1,2,{"c":null}]},"s":"x\"y"})"},
        {"2", "arr", "[1,\"two\",3.5,true,null]"},
        {"3", "str", "\"just a string\""},
        {"4", "num", "-12.5e3"},
        {"5", "bool", "false"},
        {"6", "null", "null"},
        {"\xC3\xA9\xE2\x82\xAC", "unicode \xF0\x9F\x98\x80", "\"\xE4\xBD\xA0\xE5\xA5\xBD\""},
    };
    for (const frame& f : sent) REQUIRE(c.send(f) == std::error_code{});
    const int more = 200;
    for (int i = 0; i < more; ++i)
      REQUIRE(c.send({"", "seq", payload_text(i)}) == std::error_code{});
    REQUIRE(rec.wait_frames(sent.size() + more));
    const auto got = rec.frames();
    for (std::size_t i = 0; i < sent.size(); ++i) CHECK(got[i] == sent[i]);
    for (int i = 0; i < more; ++i)
      CHECK(got[sent.size() + static_cast<std::size_t>(i)].payload == payload_text(i));
  }

  TEST_CASE("rooms are isolated; query and dial headers reach the server unchanged") {
    test_server server;
    recorder a_rec, b_rec, c_rec;
    quiet_options a_opts, b_opts, c_opts;
    a_opts.dial_headers({{"Authorization", "Bearer xyz"}, {"X-Trace", "t-1"}});
    auto a = quiet_client::dial(server.url("/ws?room=r1&id=a&token=xyz"), a_rec.attach(a_opts));
    auto b = quiet_client::dial(server.url("/ws?room=r1&id=b"), b_rec.attach(b_opts));
    auto c = quiet_client::dial(server.url("/ws?room=r2&id=c"), c_rec.attach(c_opts));
    for (const char* id : {"a", "b", "c"}) REQUIRE(server_knows(server, id));
    REQUIRE(a.send({"", "hello.r1", "1"}) == std::error_code{});
    REQUIRE(a_rec.wait_frames(1));
    REQUIRE(b_rec.wait_frames(1));
    CHECK(b_rec.frames()[0].event == "hello.r1");
    REQUIRE(c.send({"", "hello.r2", "2"}) == std::error_code{});
    REQUIRE(c_rec.wait_frames(1));
    // r1 saw exactly its own frame: r2's frame was delivered to c (above) and not to r1.
    REQUIRE(a.send({"", "marker", "3"}) == std::error_code{});
    REQUIRE(b_rec.wait_frames(2));
    CHECK(b_rec.frames()[1].event == "marker");
    CHECK(c_rec.frame_count() == 1);

    const auto conns = server.connections("r1");
    REQUIRE(conns.size() == 2);
    const auto& info = conns[0].id == "a" ? conns[0] : conns[1];
    CHECK(info.query == "room=r1&id=a&token=xyz");
    auto header = [&](const std::string& name) {
      for (auto& [k, v] : info.headers)
        if (k == name) return v;
      return std::string("<missing>");
    };
    CHECK(header("Authorization") == "Bearer xyz");
    CHECK(header("X-Trace") == "t-1");
  }

  TEST_CASE(
      "server drops the TCP connection, reconnect off: drop(cause) then "
      "disconnect(connection_lost)") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?id=d1"), rec.attach(opts));
    REQUIRE(server_knows(server, "d1"));
    REQUIRE(server.drop("d1"));
    REQUIRE(rec.wait_disconnect());
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(rec.drops()[0].code == errc::connection_lost);
    CHECK(rec.disconnects()[0].code == errc::connection_lost);
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(c.send({"", "late", ""}) == errc::connection_closed);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("server close frame: server_closed with code and text, for every code") {
    test_server server(wspulse::test_support::closing_with_frame());
    SUBCASE("kicked 1000") {
      recorder rec;
      quiet_options opts;
      auto c = quiet_client::dial(server.url("/ws?id=k1"), rec.attach(opts));
      REQUIRE(wait_until([&] { return server.connections().size() == 1; }, 5s));
      REQUIRE(server.kick("k1"));
      REQUIRE(rec.wait_disconnect());
      CHECK(rec.drops().at(0).code == errc::server_closed);
      CHECK(rec.drops().at(0).close_code == 1000);
      CHECK(rec.drops().at(0).close_text == "kicked");
      CHECK(rec.disconnects().at(0).code == errc::connection_lost);
    }
    SUBCASE("custom 4000") {
      recorder rec;
      quiet_options opts;
      auto c = quiet_client::dial(server.url("/ws?id=k2"), rec.attach(opts));
      REQUIRE(wait_until([&] { return server.connections().size() == 1; }, 5s));
      REQUIRE(server.kick("k2", 4000, "bye now"));
      REQUIRE(rec.wait_disconnect());
      CHECK(rec.drops().at(0).code == errc::server_closed);
      CHECK(rec.drops().at(0).close_code == 4000);
      CHECK(rec.drops().at(0).close_text == "bye now");
    }
    SUBCASE("shutdown 1001") {
      recorder rec;
      quiet_options opts;
      auto c = quiet_client::dial(server.url("/ws?id=k3"), rec.attach(opts));
      REQUIRE(server_knows(server, "k3"));
      server.shutdown();
      REQUIRE(rec.wait_disconnect());
      CHECK(rec.drops().at(0).close_code == 1001);
      CHECK(rec.drops().at(0).close_text == "server shutting down");
    }
  }

#ifdef __linux__
  // Callback-thread mode only: inline callbacks start no thread and must not block.
  TEST_CASE("a client runs two threads (I/O, callbacks) and close() joins them" *
            doctest::skip(wspulse::test_support::inline_shared_mode)) {
    test_server server;
    const auto threads = wspulse::test_support::thread_count;
    const std::size_t before = threads();
    auto c = quiet_client::dial(server.url());  // an IP literal: no resolver thread either
    CHECK(threads() == before + 2);
    c.close();
    CHECK(threads() == before);
  }
#endif

  TEST_CASE("send after close returns connection_closed; an empty client is inert") {
    test_server server;
    auto c = quiet_client::dial(server.url());
    c.close();
    CHECK(c.send({"", "x", "1"}) == errc::connection_closed);
    quiet_client moved = std::move(c);
    CHECK_FALSE(c);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    CHECK(c.send({"", "x", "1"}) == errc::connection_closed);
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    CHECK_FALSE(c.connected());
    quiet_client empty;
    CHECK_FALSE(empty);
    empty.close();
  }

  TEST_CASE("encode errors return at once and send nothing") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?id=e1"), rec.attach(opts));
    CHECK(c.send({"", "bad", "{not json"}) == errc::invalid_payload);
    CHECK(c.send({"", "bad", "1 2"}) == errc::invalid_payload);
    REQUIRE(c.send({"", "good", "1"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames()[0].event == "good");
    CHECK(server.received("e1").size() == 1);
  }

  TEST_CASE("16 threads x 1000 sends: no race, per-sender order kept") {
    test_server server;
    using big_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                             wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                             wspulse::buffer_bounds<4096>>;
    recorder rec;
    big_client::options opts;
    auto c = big_client::dial(server.url("/ws?id=mt"), rec.attach(opts));
    constexpr int threads = 16, per = 1000;
    std::atomic<int> full{0}, failed{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t)
      senders.emplace_back([&, t] {
        for (int i = 0; i < per;) {
          const auto ec = c.send({"", "t" + std::to_string(t), std::to_string(i)});
          if (ec == errc::send_buffer_full) {
            ++full;
            std::this_thread::yield();
            continue;
          }
          if (ec) {  // doctest's REQUIRE may not throw on a non-main thread
            ++failed;
            return;
          }
          ++i;
        }
      });
    for (auto& s : senders) s.join();
    REQUIRE(failed == 0);
    REQUIRE(rec.wait_frames(threads * per, 30s));
    std::vector<int> next(threads, 0);
    int out_of_order = 0;
    for (const frame& f : rec.frames()) {
      const int t = std::stoi(f.event.substr(1));
      out_of_order += std::stoi(f.payload) != next[static_cast<std::size_t>(t)]++ ? 1 : 0;
    }
    CHECK(out_of_order == 0);
    CHECK(server.received("mt").size() == static_cast<std::size_t>(threads * per));
    MESSAGE("send_buffer_full seen " << full.load() << " times");
  }

  TEST_CASE("close racing a server drop: drop once, disconnect once") {
    test_server server;
    for (int round = 0; round < 20; ++round) {
      recorder rec;
      quiet_options opts;
      const std::string id = "race" + std::to_string(round);
      auto c = quiet_client::dial(server.url("/ws?id=" + id), rec.attach(opts));
      REQUIRE(wait_until([&] { return server.connections().size() == 1; }, 5s));
      std::thread killer([&] { server.drop(id); });
      c.close();
      killer.join();
      REQUIRE(rec.wait_disconnect());
      CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
      CHECK(rec.violations() == 0);
      REQUIRE(wait_until([&] { return server.connections().empty(); }, 5s));
    }
  }

  TEST_CASE("refused upgrade: handshake_rejected with the HTTP status, no callback") {
    test_server server;
    recorder rec;
    quiet_options opts;
    reason why;
    auto c = quiet_client::dial(server.url("/ws?reject=401"), rec.attach(opts), why);
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_rejected);
    CHECK(why.http_status == 401);
    CHECK(rec.events().empty());
    try {
      quiet_client::dial(server.url("/ws?reject=503"));
      FAIL("dial must throw");
    } catch (const wspulse::dial_error& e) {
      CHECK(e.code() == errc::handshake_rejected);
      CHECK(e.why().http_status == 503);
    }
  }

  TEST_CASE("dial errors before any network activity") {
    reason why;
    for (const char* url :
         {"ftp://127.0.0.1/ws", "127.0.0.1:80/ws", "", "ws://", "ws:///path", "ws://h st/"}) {
      CAPTURE(url);
      auto c = quiet_client::dial(url, {}, why);
      CHECK_FALSE(c);
      CHECK(why.code == errc::invalid_url);
    }
    // The free function has the non-throwing form too.
    const wspulse::client free_dialed = wspulse::dial("ftp://127.0.0.1/ws", {}, why);
    CHECK_FALSE(free_dialed);
    CHECK(why.code == errc::invalid_url);
    // ...and the throwing one; both give wspulse::client (templates only to defer instantiation).
    static_assert(std::is_same_v<decltype(wspulse::dial("ws://h/")), wspulse::client>);
    static_assert(std::is_same_v<decltype(wspulse::dial("ws://h/", {}, why)), wspulse::client>);
    CHECK_THROWS_AS(wspulse::dial("ftp://127.0.0.1/ws"), wspulse::dial_error);
#ifndef WSPULSE_CLIENT_ENABLE_TLS
    auto c = quiet_client::dial("wss://127.0.0.1:1/ws", {}, why);
    CHECK(why.code == errc::tls_unavailable);
    quiet_client::dial("HTTPS://127.0.0.1:1/ws", {}, why);
    CHECK(why.code == errc::tls_unavailable);
#endif
    // http:// maps to ws:// (case-insensitive): the dial reaches a listener that never answers
    // and fails there, as handshake_timeout, not as invalid_url.
    silent_listener nobody_home;
    const std::uint16_t port = nobody_home.port();
    quiet_options opts;
    opts.handshake_timeout(200ms);
    auto d = quiet_client::dial("HTTP://127.0.0.1:" + std::to_string(port) + "/ws", opts, why);
    CHECK(why.code == errc::handshake_timeout);
  }

  TEST_CASE("handshake timeout against a listener that never answers") {
    silent_listener listener;
    quiet_options opts;
    opts.handshake_timeout(300ms);
    const auto start = std::chrono::steady_clock::now();
    reason why;
    auto c =
        quiet_client::dial("ws://127.0.0.1:" + std::to_string(listener.port()) + "/ws", opts, why);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_timeout);
    CHECK(took >= 300ms);
    CHECK(took < 5s);
  }

  TEST_CASE("oversized inbound message: closed with 1009, message_too_big") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.max_message_size(1024);
    auto c = quiet_client::dial(server.url("/ws?id=big"), rec.attach(opts));
    REQUIRE(server_knows(server, "big"));
    REQUIRE(server.send("big", R"({"event":"small","payload":1})"));
    REQUIRE(rec.wait_frames(1));
    REQUIRE(
        server.send("big", "{\"event\":\"huge\",\"payload\":\"" + std::string(4096, 'x') + "\"}"));
    REQUIRE(rec.wait_disconnect());
    CHECK(rec.drops().at(0).code == errc::message_too_big);
    CHECK(rec.drops().at(0).close_code == 0);  // we closed: never looks like a server close
    CHECK(rec.frame_count() == 1);
  }

  TEST_CASE("half-open connection is detected by the heartbeat") {
    server_options so;
    so.ping_ms = 0;  // a silent server
    test_server server(so);
    recorder rec;
    quiet_options opts;
    opts.heartbeat(50ms, 300ms, 1000ms);
    auto c = quiet_client::dial(server.url("/ws?id=h1"), rec.attach(opts));
    REQUIRE(wait_until([&] { return server.connections().size() == 1; }, 5s));
    // While pongs flow the connection stays up for several pong_waits.
    CHECK_FALSE(rec.wait_drops(1, 700ms));
    REQUIRE(server.mute("h1"));
    REQUIRE(rec.wait_disconnect(5s));
    CHECK(rec.drops().at(0).code == errc::heartbeat_timeout);
  }

  // Callback-thread mode only: inline callbacks start no thread and must not block.
  TEST_CASE("a slow on_message does not stop the client from answering server pings" *
            doctest::skip(wspulse::test_support::inline_shared_mode)) {
    server_options so;
    so.ping_ms = 1100;  // must exceed pong_ms, like the hub: 3 pings during the 4 s block
    so.pong_ms = 1000;
    test_server server(so);
    recorder rec;
    std::atomic<bool> blocked_done{false};
    rec.on_message_hook = [&](const frame& f) {
      if (f.event == "block") {
        std::this_thread::sleep_for(4s);  // the handler under test is slow on purpose
        blocked_done = true;
      }
    };
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?id=slow"), rec.attach(opts));
    REQUIRE(c.send({"", "block", ""}) == std::error_code{});
    for (int i = 0; i < 50; ++i)
      REQUIRE(c.send({"", "after", std::to_string(i)}) == std::error_code{});
    REQUIRE(wait_until([&] { return blocked_done.load(); }, 10s));
    REQUIRE(rec.wait_frames(51));
    CHECK(rec.drops().empty());
    CHECK(c.connected());
  }

  TEST_CASE("inbound frames waiting for a slow handler are bounded, and none is lost") {
    test_server server;
    using tight_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                               wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                               wspulse::buffer_bounds<256, 1 << 20, 4>>;
    recorder rec;
    std::atomic<bool> release{false};
    rec.on_message_hook = [&](const frame&) { wait_until([&] { return release.load(); }, 10s); };
    tight_client::options opts;
    auto c = tight_client::dial(server.url("/ws?id=bp"), rec.attach(opts));
    REQUIRE(server_knows(server, "bp"));
    for (int i = 0; i < 300; ++i)
      REQUIRE(server.send("bp", "{\"payload\":" + std::to_string(i) + "}"));
    release = true;
    REQUIRE(rec.wait_frames(300, 10s));
    const auto got = rec.frames();
    for (int i = 0; i < 300; ++i)
      CHECK(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
  }

  TEST_CASE("reading resumes cleanly when nothing arrived during the pause") {
    // Pause/resume cycles with an idle wire in between (websocketpp 0.8.2 can start a second
    // read on resume; see observed_connection::async_read_at_least), then traffic again.
    test_server server;
    using tight_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                               wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                               wspulse::buffer_bounds<256, 1 << 20, 2>>;
    recorder rec;
    std::atomic<bool> release{false};
    rec.on_message_hook = [&](const frame&) { wait_until([&] { return release.load(); }, 10s); };
    tight_client::options opts;
    auto c = tight_client::dial(server.url("/ws?id=pr"), rec.attach(opts));
    REQUIRE(server_knows(server, "pr"));
    for (int round = 0; round < 5; ++round) {
      release = false;
      for (int i = 0; i < 4; ++i)
        REQUIRE(server.send("pr", "{\"payload\":" + std::to_string(round * 4 + i) + "}"));
      release = true;  // the handler drains; reading resumes with no data on the wire
      REQUIRE(rec.wait_frames(static_cast<std::size_t>(round * 4 + 4)));
    }
    for (int i = 20; i < 120; ++i)
      REQUIRE(server.send("pr", "{\"payload\":" + std::to_string(i) + "}"));
    REQUIRE(rec.wait_frames(120));
    const auto got = rec.frames();
    for (int i = 0; i < 120; ++i)
      CHECK(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
    CHECK(rec.drops().empty());
  }

  TEST_CASE("a stalled write longer than write_wait: drop(write_timeout)") {
    server_options so;
    so.max_message = 0;
    test_server server(so);
    recorder rec;
    quiet_options opts;
    opts.heartbeat(5000ms, 10000ms, 300ms);
    auto c = quiet_client::dial(server.url("/ws?id=st"), rec.attach(opts));
    REQUIRE(server_knows(server, "st"));
    REQUIRE(server.stall("st", 10000));
    const std::string blob = "\"" + std::string(1 << 20, 'y') + "\"";
    for (int i = 0; i < 32 && rec.drops().empty(); ++i) c.send({"", "blob", blob});
    REQUIRE(rec.wait_disconnect(10s));
    CHECK(rec.drops().at(0).code == errc::write_timeout);
  }

  TEST_CASE("callbacks may send, close and destroy their own client") {
    test_server server;
    SUBCASE("send from on_message") {
      recorder rec;
      rec.on_message_hook = nullptr;
      quiet_options opts;
      std::unique_ptr<quiet_client> c;
      std::atomic<int> replies{0};
      rec.on_message_hook = [&](const frame& f) {
        if (f.event == "ping" && c)
          replies += c->send({"", "pong", "1"}) == std::error_code{} ? 1 : 0;
      };
      c = std::make_unique<quiet_client>(
          quiet_client::dial(server.url("/ws?id=s1"), rec.attach(opts)));
      REQUIRE(c->send({"", "ping", "1"}) == std::error_code{});
      REQUIRE(rec.wait_frames(2));
      CHECK(replies == 1);
    }
    SUBCASE("close from on_message, then send from on_transport_drop and on_disconnect") {
      recorder rec;
      quiet_options opts;
      quiet_client c;
      std::atomic<bool> ready{false};
      std::vector<std::error_code> late;
      rec.on_message_hook = [&](const frame&) {
        wait_until([&] { return ready.load(); }, 5s);
        c.close();
      };
      rec.on_drop_hook = [&](const reason&) { late.push_back(c.send({"", "x", "1"})); };
      rec.on_disconnect_hook = [&](const reason&) {
        late.push_back(c.send({"", "x", "1"}));
        c.close();
      };
      c = quiet_client::dial(server.url("/ws?id=s2"), rec.attach(opts));
      ready = true;
      REQUIRE(c.send({"", "bye", "1"}) == std::error_code{});
      REQUIRE(c.done().wait_for(5s) == std::future_status::ready);
      CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
      REQUIRE(late.size() == 2);
      CHECK(late[0] == errc::connection_closed);
      CHECK(late[1] == errc::connection_closed);
    }
    SUBCASE("destroy from on_message") {
      recorder rec;
      quiet_options opts;
      auto c = std::make_unique<quiet_client>();
      std::atomic<bool> ready{false};
      rec.on_message_hook = [&](const frame&) {
        wait_until([&] { return ready.load(); }, 5s);
        c.reset();
      };
      *c = quiet_client::dial(server.url("/ws?id=s3"), rec.attach(opts));
      auto done = c->done();
      // The callback may destroy *c only once this thread is done with it.
      REQUIRE(c->send({"", "die", "1"}) == std::error_code{});
      ready = true;
      REQUIRE(done.wait_for(5s) == std::future_status::ready);
      CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    }
    SUBCASE("destroy from on_disconnect") {
      recorder rec;
      quiet_options opts;
      auto c = std::make_unique<quiet_client>();
      std::atomic<bool> ready{false};
      std::atomic<bool> destroyed{false};
      rec.on_disconnect_hook = [&](const reason&) {
        wait_until([&] { return ready.load(); }, 5s);
        c.reset();
        destroyed = true;
      };
      *c = quiet_client::dial(server.url("/ws?id=s4"), rec.attach(opts));
      auto done = c->done();
      REQUIRE(server_knows(server, "s4"));
      ready = true;
      REQUIRE(server.drop("s4"));
      // done() is ready once on_disconnect (and so the recorder) has returned.
      REQUIRE(done.wait_for(5s) == std::future_status::ready);
      CHECK(destroyed.load());
    }
  }

  TEST_CASE("an exception from on_message drops the transport with callback_failed") {
    test_server server;
    recorder rec;
    rec.on_message_hook = [](const frame& f) {
      if (f.event == "boom") throw std::runtime_error("handler failed");
    };
    rec.on_disconnect_hook = [](const reason&) { throw std::logic_error("ignored"); };
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?id=x1"), rec.attach(opts));
    REQUIRE(c.send({"", "boom", "1"}) == std::error_code{});
    REQUIRE(rec.wait_disconnect());
    CHECK(rec.drops().at(0).code == errc::callback_failed);
    CHECK(rec.disconnects().at(0).code == errc::connection_lost);
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
  }
}

TEST_SUITE("client reconnect") {
  using reconnect_options = quiet_options;

  TEST_CASE("frames accepted while reconnecting wait and are written after restore; buffer full") {
    test_server server;
    using small_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                               wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                               wspulse::buffer_bounds<8>>;
    recorder rec;
    small_client::options opts;
    opts.auto_reconnect(0, 20ms, 100ms);
    auto c = small_client::dial(server.url("/ws?id=q1"), rec.attach(opts));
    REQUIRE(server_knows(server, "q1"));
    server.shutdown();  // 1001 now, 503 for every redial until restart
    REQUIRE(rec.wait_drops(1));
    for (int i = 0; i < 8; ++i)
      REQUIRE(c.send({"", "queued", std::to_string(i)}) == std::error_code{});
    CHECK(c.send({"", "queued", "8"}) == errc::send_buffer_full);
    server.restart();
    REQUIRE(rec.wait_event_count("restore", 1));
    REQUIRE(rec.wait_frames(8));
    const auto got = rec.frames();
    for (int i = 0; i < 8; ++i)
      CHECK(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
    const auto events = rec.events();
    CHECK(events.at(0) == "drop");
    CHECK(events.at(1) == "restore");  // restore comes before any message of the new transport
  }

  TEST_CASE("min_uptime: a transport that did not stay up keeps the attempt count") {
    // Every odd redial is refused (503), every even one accepted. With max_retries 2, a kick
    // after a short-lived restore exhausts the retries only if the restore did not reset the
    // count; without min_uptime the count resets and the client restores again.
    for (const bool with_min_uptime : {true, false}) {
      CAPTURE(with_min_uptime);
      test_server server;
      recorder rec;
      reconnect_options opts;
      std::atomic<int> redials{0};
      opts.auto_reconnect(2, 5ms, 10ms)
          .before_reconnect([&](std::string& url, wspulse::header_list&) {
            const bool refuse = redials++ % 2 == 0;
            url = server.url(refuse ? "/ws?id=mu&reject=503" : "/ws?id=mu");
          });
      if (with_min_uptime) opts.min_uptime(60s);
      auto c = quiet_client::dial(server.url("/ws?id=mu"), rec.attach(opts));
      REQUIRE(server_knows(server, "mu"));
      REQUIRE(server.kick("mu"));  // refused, then accepted: attempt count 1 at the restore
      REQUIRE(rec.wait_event_count("restore", 1));
      REQUIRE(server_knows(server, "mu"));
      REQUIRE(server.kick("mu"));  // refused again: count 2 = max_retries with min_uptime
      if (with_min_uptime) {
        REQUIRE(rec.wait_disconnect());
        CHECK(rec.disconnects().at(0).code == errc::retries_exhausted);
        CHECK(redials.load() == 3);
      } else {
        REQUIRE(rec.wait_event_count("restore", 2));
        CHECK(rec.disconnects().empty());
        CHECK(redials.load() == 4);
      }
    }
  }
}

TEST_SUITE("client options") {
  TEST_CASE("setters reject values outside behaviour.md's limits") {
    quiet_options o;
    CHECK_THROWS_AS(o.heartbeat(0ms, 1000ms, 1000ms), std::invalid_argument);
    CHECK_THROWS_AS(o.heartbeat(61s, 120s, 1000ms), std::invalid_argument);
    CHECK_THROWS_AS(o.heartbeat(1000ms, 1000ms, 1000ms), std::invalid_argument);
    CHECK_THROWS_AS(o.heartbeat(1000ms, 121s, 1000ms), std::invalid_argument);
    CHECK_THROWS_AS(o.heartbeat(1000ms, 2000ms, 0ms), std::invalid_argument);
    CHECK_THROWS_AS(o.heartbeat(1000ms, 2000ms, 31s), std::invalid_argument);
    CHECK_NOTHROW(o.heartbeat(60s, 120s, 30s));
    CHECK_THROWS_AS(o.auto_reconnect(33, 1s, 2s), std::invalid_argument);
    CHECK_THROWS_AS(o.auto_reconnect(1, 0ms, 2s), std::invalid_argument);
    CHECK_THROWS_AS(o.auto_reconnect(1, 61s, 62s), std::invalid_argument);
    CHECK_THROWS_AS(o.auto_reconnect(1, 2s, 1s), std::invalid_argument);
    CHECK_THROWS_AS(o.auto_reconnect(1, 1s, 301s), std::invalid_argument);
    CHECK_NOTHROW(o.auto_reconnect(32, 60s, 300s));
    CHECK_THROWS_AS(o.max_message_size((std::size_t{64} << 20) + 1), std::invalid_argument);
    CHECK_NOTHROW(o.max_message_size(0));
    CHECK_THROWS_AS(o.handshake_timeout(0ms), std::invalid_argument);
    CHECK_THROWS_AS(o.min_uptime(-1ms), std::invalid_argument);
    CHECK_THROWS_AS(o.min_uptime(301s), std::invalid_argument);
    CHECK_NOTHROW(o.min_uptime(300s));
    CHECK_THROWS_AS(o.dial_headers({{"Bad Name", "v"}}), std::invalid_argument);
    CHECK_THROWS_AS(o.dial_headers({{"X-Ok", "line\r\nInjected: 1"}}), std::invalid_argument);
    CHECK_THROWS_AS(o.dial_headers({{"", "v"}}), std::invalid_argument);
    try {
      o.heartbeat(0ms, 1s, 1s);
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).rfind("wspulse: ", 0) == 0);
    }
    // The failed setters left the earlier valid values in place.
    CHECK(o.ping_period() == 60s);
    CHECK(o.max_retries() == 32);
  }

  TEST_CASE("defaults come from the policies") {
    quiet_options o;
    CHECK(o.ping_period() == 20s);
    CHECK(o.pong_wait() == 60s);
    CHECK(o.write_wait() == 10s);
    CHECK(o.max_message_size() == (1u << 20));
    CHECK(o.handshake_timeout() == 10s);
    CHECK_FALSE(o.reconnect_enabled());
    wspulse::basic_options<wspulse::json_codec, wspulse::null_logger,
                           wspulse::exponential_backoff<5, 200, 800>,
                           wspulse::heartbeat<1000, 3000, 500>, wspulse::buffer_bounds<16, 4096>>
        p;
    CHECK(p.ping_period() == 1s);
    CHECK(p.pong_wait() == 3s);
    CHECK(p.write_wait() == 500ms);
    CHECK(p.max_message_size() == 4096);
    p.auto_reconnect();
    CHECK(p.reconnect_enabled());
    CHECK(p.max_retries() == 5);
    CHECK(p.base_delay() == 200ms);
    CHECK(p.max_delay() == 800ms);
  }
}

TEST_SUITE("client send_for") {
  using small_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                             wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                             wspulse::buffer_bounds<4>>;

  TEST_CASE("send_for waits for room instead of refusing: a bulk sender needs no retry loop") {
    test_server server;
    recorder rec;
    small_client::options opts;
    auto c = small_client::dial(server.url("/ws?id=bulk"), rec.attach(opts));
    const int n = 2000;
    int refused = 0;
    for (int i = 0; i < n; ++i)
      refused += c.send_for({"", "bulk", payload_text(i)}, 5s) == std::error_code{} ? 0 : 1;
    CHECK(refused == 0);
    REQUIRE(rec.wait_frames(n, 10s));
    const auto got = rec.frames();
    for (int i = 0; i < n; ++i) CHECK(got[static_cast<std::size_t>(i)].payload == payload_text(i));
  }

  TEST_CASE("send_for: send_buffer_full once its timeout passed without room") {
    test_server server;
    recorder rec;
    small_client::options opts;
    opts.auto_reconnect(0, 20ms, 100ms);
    auto c = small_client::dial(server.url("/ws?id=sf"), rec.attach(opts));
    REQUIRE(server_knows(server, "sf"));
    server.shutdown();  // every redial refused until restart: nothing drains the queue
    REQUIRE(rec.wait_drops(1));
    for (int i = 0; i < 4; ++i)
      REQUIRE(c.send_for({"", "queued", std::to_string(i)}, 1s) == std::error_code{});
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(c.send_for({"", "queued", "4"}, 150ms) == errc::send_buffer_full);
    CHECK(std::chrono::steady_clock::now() - t0 >= 150ms);
    // Room comes with the restore: a waiting sender is let in then.
    std::thread restarter([&] { server.restart(); });
    CHECK(c.send_for({"", "queued", "4"}, 10s) == std::error_code{});
    restarter.join();
    REQUIRE(rec.wait_frames(5));
    CHECK(rec.frames().back().payload == "4");
  }

  TEST_CASE("send_for returns connection_closed at once when the client closes meanwhile") {
    test_server server;
    small_client::options opts;
    opts.auto_reconnect(0, 20ms, 100ms);
    recorder rec;
    auto c = small_client::dial(server.url("/ws?id=sc"), rec.attach(opts));
    REQUIRE(server_knows(server, "sc"));
    server.shutdown();
    REQUIRE(rec.wait_drops(1));
    for (int i = 0; i < 4; ++i)
      REQUIRE(c.send({"", "queued", std::to_string(i)}) == std::error_code{});
    std::atomic<bool> waiting{false};
    std::error_code result;
    std::thread sender([&] {
      waiting = true;
      result = c.send_for({"", "late", "1"}, 30s);
    });
    REQUIRE(wait_until([&] { return waiting.load(); }, 5s));
    const auto t0 = std::chrono::steady_clock::now();
    c.close();
    sender.join();
    CHECK(result == errc::connection_closed);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  }
}
