// wspulse_client tests — metrics.hpp: counting_metrics and to_prometheus on their own, then
// every hook from a real client against the bundled test server, in both dispatch modes.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/fixtures.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;
using wspulse::counting_metrics;
using wspulse::drop_cause;
using wspulse::errc;
using wspulse::reason;
using wspulse::test_support::recorder;
using wspulse::test_support::server_knows;
using wspulse::test_support::wait_until;
using wspulse::testing::server_options;
using wspulse::testing::test_server;

namespace {

template <class Dispatch, class Metrics = counting_metrics, class Bounds = wspulse::buffer_bounds<>>
using metered_client =
    wspulse::basic_client<wspulse::json_codec, wspulse::null_logger, wspulse::exponential_backoff<>,
                          wspulse::heartbeat<>, Bounds, Dispatch, Metrics>;

std::uint64_t closed(const counting_metrics::snapshot& s, const reason& why) {
  return s.closed_by_reason[wspulse::detail::reason_slot(why)];
}
std::uint64_t dropped(const counting_metrics::snapshot& s, drop_cause cause) {
  return s.dropped[static_cast<std::size_t>(cause)];
}

// Every hook throws: the client must not notice.
struct throwing_metrics : wspulse::null_metrics {
  static constexpr bool enabled = true;
  void connection_opened(std::chrono::microseconds) { throw std::runtime_error("opened"); }
  void message_sent(std::size_t) { throw std::runtime_error("sent"); }
  void message_received(std::size_t) { throw std::runtime_error("received"); }
  void send_queue_depth(std::size_t, std::size_t) { throw std::runtime_error("depth"); }
  void connection_closed(std::chrono::microseconds, const reason&) {
    throw std::runtime_error("closed");
  }
};

}  // namespace

TEST_SUITE("metrics") {
  TEST_CASE("null_metrics is empty and disabled; a type without `enabled` is no Metrics policy") {
    static_assert(std::is_empty_v<wspulse::null_metrics>);
    static_assert(!wspulse::null_metrics::enabled);
    static_assert(counting_metrics::enabled);
    static_assert(wspulse::detail::is_metrics_policy<counting_metrics>::value);
    static_assert(!wspulse::detail::is_metrics_policy<int>::value);
    CHECK(
        std::is_same_v<wspulse::client::options,
                       wspulse::basic_options<wspulse::json_codec, wspulse::json_logger,
                                              wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                              wspulse::buffer_bounds<>, wspulse::null_metrics>>);
  }

  TEST_CASE("counting_metrics: copies share their counters; gauges keep the last and the max") {
    counting_metrics a;
    counting_metrics b = a;
    a.message_sent(10);
    b.message_sent(5);
    a.send_queue_depth(7, 256);
    b.send_queue_depth(3, 256);
    a.pong_received(250us);
    b.pong_received(100us);
    a.connection_closed(2s, reason{});
    b.connection_closed(1s, reason(errc::heartbeat_timeout));
    b.message_dropped(drop_cause::decode_failed);
    const auto s = a.read();
    CHECK(s.messages_sent == 2);
    CHECK(s.bytes_sent == 15);
    CHECK(s.send_queue_depth == 3);
    CHECK(s.send_queue_depth_max == 7);
    CHECK(s.send_queue_capacity == 256);
    CHECK(s.pongs == 2);
    CHECK(s.ping_rtt_us_total == 350);
    CHECK(s.ping_rtt_us_last == 100);
    CHECK(s.ping_rtt_us_max == 250);
    CHECK(s.connections_closed == 2);
    CHECK(s.connected_us_total == 3'000'000);
    CHECK(closed(s, reason{}) == 1);
    CHECK(closed(s, reason(errc::heartbeat_timeout)) == 1);
    CHECK(dropped(s, drop_cause::decode_failed) == 1);
    CHECK(dropped(s, drop_cause::too_big) == 0);
    CHECK(counting_metrics{}.read().messages_sent == 0);  // a new one starts from zero
  }

  TEST_CASE("reason slots: clean, each errc, and one slot for other categories") {
    using wspulse::detail::reason_slot;
    using wspulse::detail::reason_slots;
    CHECK(reason_slot(reason{}) == 0);
    CHECK(reason_slot(reason(errc::connection_closed)) == 1);
    CHECK(reason_slot(reason(errc::duplicate_request)) ==
          static_cast<std::size_t>(errc::duplicate_request));
    CHECK(static_cast<std::size_t>(errc::duplicate_request) < reason_slots - 1);
    CHECK(reason_slot(reason(std::make_error_code(std::errc::timed_out))) == reason_slots - 1);
  }

  TEST_CASE("to_prometheus writes the text format: families, labels, seconds from integers") {
    counting_metrics m;
    m.connection_opened(1500us);
    m.connection_closed(2'000'250us, reason(errc::server_closed));
    m.reconnect_attempt(1, 750ms);
    m.message_received(42);
    m.message_dropped(drop_cause::send_buffer_full);
    const std::string text = wspulse::to_prometheus(m.read(), "app_ws");
    CHECK(text.find("# TYPE app_ws_connections_opened_total "
                    "counter\napp_ws_connections_opened_total 1\n") != std::string::npos);
    CHECK(text.find("app_ws_handshake_seconds_sum 0.001500\napp_ws_handshake_seconds_count 1\n") !=
          std::string::npos);
    CHECK(text.find("app_ws_connection_duration_seconds_sum 2.000250\n") != std::string::npos);
    CHECK(
        text.find("app_ws_connections_closed_total{reason=\"server closed the connection\"} 1\n") !=
        std::string::npos);
    CHECK(text.find("app_ws_connections_closed_total{reason=\"closed\"} 0\n") != std::string::npos);
    CHECK(text.find("app_ws_reconnect_delay_seconds_sum 0.750\n") != std::string::npos);
    CHECK(text.find("app_ws_received_bytes_total 42\n") != std::string::npos);
    CHECK(text.find("app_ws_messages_dropped_total{cause=\"send_buffer_full\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("app_ws_messages_dropped_total{cause=\"too_big\"} 0\n") != std::string::npos);
    // Every line is a comment or `name[{labels}] value`, and ends with a newline.
    std::size_t at = 0;
    int samples = 0;
    while (at < text.size()) {
      const std::size_t end = text.find('\n', at);
      REQUIRE(end != std::string::npos);
      const std::string line = text.substr(at, end - at);
      if (line.rfind("# HELP ", 0) != 0 && line.rfind("# TYPE ", 0) != 0) {
        CHECK(line.rfind("app_ws_", 0) == 0);
        CHECK(line.find(' ') != std::string::npos);
        ++samples;
      }
      at = end + 1;
    }
    CHECK(samples >= 20);
  }
}

TEST_SUITE("metrics on the wire") {
  TEST_CASE_TEMPLATE("a client's life in figures: dial, traffic, pongs, a kick, a reconnect, close",
                     Dispatch, wspulse::callback_thread, wspulse::inline_callbacks) {
    server_options so;
    so.ping_ms = 0;  // only the client pings: every pong answers one of its pings
    test_server server(so);
    counting_metrics m;
    recorder rec;
    typename metered_client<Dispatch>::options opts;
    opts.metrics(m).auto_reconnect(0, 20ms, 100ms).heartbeat(30ms, 2000ms, 1000ms);
    auto c = metered_client<Dispatch>::dial(server.url("/ws?id=m1"), rec.attach(opts));
    REQUIRE(server_knows(server, "m1"));
    for (int i = 0; i < 5; ++i) REQUIRE(c.send({"", "e", std::to_string(i)}) == std::error_code{});
    REQUIRE(rec.wait_frames(5));  // the room's echoes
    REQUIRE(wait_until([&] { return m.read().pongs >= 2; }, 5s));
    REQUIRE(server.kick("m1", 4000, "bye"));
    REQUIRE(rec.wait_event_count("restore", 1));
    c.close();

    const auto s = m.read();
    CHECK(s.connections_opened == 2);
    CHECK(s.handshake_us_total > 0);
    CHECK(s.connections_closed == 2);
    CHECK(s.connected_us_total > 0);
    CHECK(closed(s, reason(errc::server_closed)) == 1);  // the kick
    CHECK(closed(s, reason{}) == 1);                     // close()
    CHECK(s.reconnect_attempts == 1);
    CHECK(s.reconnect_delay_ms_total <= 20);  // attempt 1: within [base/2, base]
    CHECK(s.messages_sent == 5);
    std::size_t encoded = 0;
    for (int i = 0; i < 5; ++i) {
      std::string wire;
      std::error_code ec;
      wspulse::json_codec{}.encode({"", "e", std::to_string(i)}, wire, ec);
      encoded += wire.size();
    }
    CHECK(s.bytes_sent == encoded);
    CHECK(s.messages_received == 5);
    CHECK(s.bytes_received == s.bytes_sent);  // echoes as sent
    CHECK(s.send_queue_capacity == 256);
    CHECK(s.send_queue_depth_max >= 1);
    CHECK(s.send_queue_depth == 0);  // every frame written
    CHECK(s.ping_rtt_us_total > 0);
    CHECK(s.ping_rtt_us_max >= s.ping_rtt_us_last);
    CHECK(s.heartbeat_failures == 0);
    for (std::uint64_t d : s.dropped) CHECK(d == 0);
  }

  TEST_CASE("clients sharing one counting_metrics add up") {
    test_server server;
    counting_metrics m;
    metered_client<wspulse::callback_thread>::options opts;
    opts.metrics(m);
    auto a = metered_client<wspulse::callback_thread>::dial(server.url("/ws?id=s1&room=s"), opts);
    auto b = metered_client<wspulse::callback_thread>::dial(server.url("/ws?id=s2&room=s"), opts);
    REQUIRE(a.send({"", "hi", "1"}) == std::error_code{});
    // Both clients receive the room's echo.
    REQUIRE(wait_until([&] { return m.read().messages_received == 2; }, 5s));
    a.close();
    b.close();
    const auto s = m.read();
    CHECK(s.connections_opened == 2);
    CHECK(s.connections_closed == 2);
    CHECK(s.messages_sent == 1);
  }

  TEST_CASE("drops by cause: send buffer full, undecodable, too big") {
    SUBCASE("send_buffer_full: a full queue while the server is away") {
      test_server server;
      counting_metrics m;
      using small =
          metered_client<wspulse::callback_thread, counting_metrics, wspulse::buffer_bounds<4>>;
      recorder rec;
      small::options opts;
      opts.metrics(m).auto_reconnect(0, 20ms, 100ms);
      auto c = small::dial(server.url("/ws?id=d1"), rec.attach(opts));
      REQUIRE(server_knows(server, "d1"));
      server.shutdown();  // 503 for every redial until restart
      REQUIRE(rec.wait_drops(1));
      for (int i = 0; i < 4; ++i)
        REQUIRE(c.send({"", "q", std::to_string(i)}) == std::error_code{});
      CHECK(c.send({"", "q", "4"}) == errc::send_buffer_full);
      CHECK(c.send_for({"", "q", "5"}, 10ms) == errc::send_buffer_full);
      const auto s = m.read();
      CHECK(dropped(s, drop_cause::send_buffer_full) == 2);
      CHECK(s.send_queue_depth_max == 4);
      CHECK(s.send_queue_capacity == 4);
      CHECK(s.reconnect_attempts >= 1);
    }
    SUBCASE("decode_failed: text the JSON codec refuses, then the client goes on") {
      test_server server;
      counting_metrics m;
      recorder rec;
      metered_client<wspulse::callback_thread>::options opts;
      opts.metrics(m);
      auto c =
          metered_client<wspulse::callback_thread>::dial(server.url("/ws?id=d2"), rec.attach(opts));
      REQUIRE(server_knows(server, "d2"));
      REQUIRE(server.send("d2", "not json"));
      REQUIRE(server.send("d2", R"({"event":"ok"})"));
      REQUIRE(rec.wait_frames(1));
      const auto s = m.read();
      CHECK(dropped(s, drop_cause::decode_failed) == 1);
      CHECK(s.messages_received == 2);
      CHECK(rec.frames().at(0).event == "ok");
    }
    SUBCASE("too_big: over max_message_size, and the transport's close says why") {
      test_server server;
      counting_metrics m;
      recorder rec;
      metered_client<wspulse::callback_thread>::options opts;
      opts.metrics(m).max_message_size(1024);
      auto c =
          metered_client<wspulse::callback_thread>::dial(server.url("/ws?id=d3"), rec.attach(opts));
      REQUIRE(server_knows(server, "d3"));
      REQUIRE(
          server.send("d3", "{\"event\":\"huge\",\"payload\":\"" + std::string(4096, 'x') + "\"}"));
      REQUIRE(rec.wait_disconnect());
      const auto s = m.read();
      CHECK(dropped(s, drop_cause::too_big) == 1);
      CHECK(closed(s, reason(errc::message_too_big)) == 1);
      CHECK(s.messages_received == 0);
    }
  }

  TEST_CASE("heartbeat failure: a server that goes silent") {
    server_options so;
    so.ping_ms = 0;
    test_server server(so);
    counting_metrics m;
    recorder rec;
    metered_client<wspulse::callback_thread>::options opts;
    opts.metrics(m).heartbeat(50ms, 300ms, 1000ms);
    auto c =
        metered_client<wspulse::callback_thread>::dial(server.url("/ws?id=h1"), rec.attach(opts));
    REQUIRE(server_knows(server, "h1"));
    REQUIRE(server.mute("h1"));
    REQUIRE(rec.wait_disconnect(5s));
    const auto s = m.read();
    CHECK(s.heartbeat_failures == 1);
    CHECK(closed(s, reason(errc::heartbeat_timeout)) == 1);
  }

  TEST_CASE("hooks that throw lose their figure, never the client's work") {
    test_server server;
    recorder rec;
    metered_client<wspulse::callback_thread, throwing_metrics>::options opts;
    auto c = metered_client<wspulse::callback_thread, throwing_metrics>::dial(
        server.url("/ws?id=t1"), rec.attach(opts));
    REQUIRE(c.send({"", "e", "1"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames().at(0).payload == "1");
    c.close();
    CHECK(rec.wait_disconnect());
    CHECK(rec.drops().size() == 1);
    CHECK_FALSE(rec.drops().at(0));  // close(): no error
  }
}
