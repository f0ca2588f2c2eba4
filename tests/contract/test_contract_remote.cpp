// wspulse_client tests — the client contract against a wspulse-testserver outside this process
// ($WSPULSE_URL, steered through its HTTP control API): the scenarios that matter on a target.
// `make check-cross` runs it under qemu-user for arm64 and armhf against the host's server;
// ctest runs it natively (contract_remote). One TU with its own main: one compile per target.
// SPDX-License-Identifier: MIT
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "remote_server.hpp"
#include "../support/log_sink.hpp"
#include "../support/recorder.hpp"

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::test_support::recorder;
using wspulse::test_support::remote_server;
using wspulse::test_support::wait_until;

namespace {

// One client type for every scenario but the codec's (each instantiation costs compile time).
// counting_metrics: the heartbeat and bad-frame scenarios read what the client counted.
using remote_client = wspulse::basic_client<wspulse::json_codec, wspulse::test_support::sink_logger,
                                            wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                            wspulse::buffer_bounds<>, wspulse::callback_thread,
                                            wspulse::counting_metrics>;
using remote_options = remote_client::options;

// The JSON codec's bytes in binary frames (the server echoes them in text frames).
struct binary_json_codec : wspulse::json_codec {
  static constexpr wspulse::wire_type wire = wspulse::wire_type::binary;
};

const remote_server& server() { return remote_server::from_environment(); }

std::string numbered(int i) { return "{\"n\":" + std::to_string(i) + "}"; }

// Reconnects at once: the outages below are the server's doing, not the network's.
remote_options& reconnecting(remote_options& opts) {
  opts.auto_reconnect(0, 20ms, 100ms);
  return opts;
}

// Sends n numbered frames and checks the room's echo brings them back in order after the
// `before` frames already recorded.
void check_echoed_in_order(remote_client& c, const recorder& rec, int n, std::size_t before = 0) {
  for (int i = 0; i < n; ++i) REQUIRE(c.send({"", "seq", numbered(i)}) == std::error_code{});
  REQUIRE(rec.wait_frames(before + static_cast<std::size_t>(n), 20s));
  const auto got = rec.frames();
  int out_of_place = 0;
  for (int i = 0; i < n; ++i)
    out_of_place += got[before + static_cast<std::size_t>(i)].payload == numbered(i) ? 0 : 1;
  CHECK(out_of_place == 0);
}

}  // namespace

TEST_SUITE("contract against a remote server") {
  TEST_CASE("dial, echo of 200 frames in order, close: drop then disconnect, no error") {
    const std::string id = server().unique("echo");
    recorder rec;
    remote_options opts;
    auto c = remote_client::dial(server().url(id), rec.attach(opts));
    REQUIRE(c);
    CHECK(c.connected());
    REQUIRE(server().knows(id));
    check_echoed_in_order(c, rec, 200);
    const auto at_server = server().received(id);
    REQUIRE(at_server.size() == 200);
    CHECK(at_server.front() == R"({"event":"seq","payload":{"n":0}})");
    CHECK(at_server.back() == R"({"event":"seq","payload":{"n":199}})");
    c.close();
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    CHECK_FALSE(c.connected());
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK_FALSE(rec.drops().at(0));
    CHECK_FALSE(rec.disconnects().at(0));
    CHECK(c.send({"", "late", "1"}) == errc::connection_closed);
    CHECK(server().forgot(id));
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("a frame the server pushes (/send) reaches on_message with every field") {
    const std::string id = server().unique("push");
    recorder rec;
    remote_options opts;
    auto c = remote_client::dial(server().url(id), rec.attach(opts));
    REQUIRE(server().knows(id));
    REQUIRE(server().send(id, R"({"id":"s-1","event":"pushed","payload":{"k":[1,"two"]}})"));
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames().at(0) == frame{"s-1", "pushed", R"({"k":[1,"two"]})"});
  }

  TEST_CASE("a binary-frame codec: the server gets the bytes, the text echo decodes") {
    using binary_client =
        wspulse::basic_client<binary_json_codec, wspulse::test_support::sink_logger>;
    const std::string id = server().unique("binary");
    recorder rec;
    binary_client::options opts;
    auto c = binary_client::dial(server().url(id), rec.attach(opts));
    REQUIRE(c.send({"b-1", "bin", "[1,2,3]"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames().at(0) == frame{"b-1", "bin", "[1,2,3]"});
    CHECK(server().received(id) ==
          std::vector<std::string>{R"({"id":"b-1","event":"bin","payload":[1,2,3]})"});
  }

  TEST_CASE("a frame that does not decode is dropped and counted; the connection lives") {
    const std::string id = server().unique("badframe");
    recorder rec;
    wspulse::counting_metrics metrics;
    remote_options opts;
    opts.metrics(metrics);
    auto c = remote_client::dial(server().url(id), rec.attach(opts));
    REQUIRE(server().knows(id));
    REQUIRE(server().send(id, "not json {", true));
    REQUIRE(server().send(id, R"({"event":"after"})"));
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.frames().at(0).event == "after");
    const auto counted = metrics.read();
    CHECK(counted.dropped[static_cast<std::size_t>(wspulse::drop_cause::decode_failed)] == 1);
    CHECK(counted.messages_received == 2);
    CHECK(rec.drops().empty());
    CHECK(c.connected());
  }

  TEST_CASE("kick (1000) with reconnect on: drop(server_closed), restore, frames flow again") {
    const std::string id = server().unique("kick");
    recorder rec;
    remote_options opts;
    auto c = remote_client::dial(server().url(id), rec.attach(reconnecting(opts)));
    REQUIRE(server().knows(id));
    REQUIRE(server().kick(id, 1000, "kicked"));
    REQUIRE(rec.wait_event_count("restore", 1, 10s));
    const reason drop = rec.drops().at(0);
    CHECK(drop.code == errc::server_closed);
    CHECK(drop.close_code == 1000);
    CHECK(drop.close_text == "kicked");
    REQUIRE(server().knows(id));
    check_echoed_in_order(c, rec, 20);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "restore"});
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("a kick with a code stop_on_close_code matches ends the client with that reason") {
    const std::string id = server().unique("stopcode");
    recorder rec;
    remote_options opts;
    reconnecting(opts).stop_on_close_code([](std::uint16_t code) { return code == 4001; });
    auto c = remote_client::dial(server().url(id), rec.attach(opts));
    REQUIRE(server().knows(id));
    REQUIRE(server().kick(id, 4001, "revoked"));
    REQUIRE(rec.wait_disconnect(10s));
    const reason end = rec.disconnects().at(0);
    CHECK(end.code == errc::server_closed);
    CHECK(end.close_code == 4001);
    CHECK(end.close_text == "revoked");
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(c.send({"", "late", "1"}) == errc::connection_closed);
  }

  TEST_CASE("a TCP reset (/drop): drop(connection_lost), reconnect, frames flow again") {
    const std::string id = server().unique("drop");
    recorder rec;
    remote_options opts;
    auto c = remote_client::dial(server().url(id), rec.attach(reconnecting(opts)));
    REQUIRE(server().knows(id));
    REQUIRE(server().drop(id));
    REQUIRE(rec.wait_event_count("restore", 1, 10s));
    CHECK(rec.drops().at(0).code == errc::connection_lost);
    REQUIRE(server().knows(id));
    check_echoed_in_order(c, rec, 20);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("heartbeat: pongs keep the connection up past pong_wait; a muted server drops it") {
    const std::string id = server().unique("heartbeat");
    recorder rec;
    wspulse::counting_metrics metrics;
    remote_options opts;
    // Ping every 100 ms, drop after 1 s of silence: 15 answered pings span 1.5 s.
    opts.metrics(metrics).heartbeat(100ms, 1000ms, 1000ms);
    auto c = remote_client::dial(server().url(id), rec.attach(opts));
    REQUIRE(server().knows(id));
    CHECK(wait_until([&] { return metrics.read().pongs >= 15; }, 10s, 10ms));
    CHECK(rec.drops().empty());
    REQUIRE(server().mute(id));
    REQUIRE(rec.wait_disconnect(10s));
    CHECK(rec.drops().at(0).code == errc::heartbeat_timeout);
    CHECK(rec.disconnects().at(0).code == errc::connection_lost);
  }

  TEST_CASE("a refused upgrade: handshake_rejected with the HTTP status, no callback") {
    recorder rec;
    remote_options opts;
    reason why;
    const std::string id = server().unique("reject");
    auto c = remote_client::dial(server().url(id, "&reject=401"), rec.attach(opts), why);
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_rejected);
    CHECK(why.http_status == 401);
    CHECK(rec.events().empty());
  }

  TEST_CASE("a dial to a port nobody listens on fails at once with the refusal") {
    // Bound but not listening: the port refuses connections and no one else can take it.
    asio::io_context io;
    asio::ip::tcp::socket holder(io);
    holder.open(asio::ip::tcp::v4());
    holder.bind({asio::ip::make_address(server().host()), 0});
    const auto port = holder.local_endpoint().port();
    recorder rec;
    remote_options opts;
    opts.handshake_timeout(5s);
    reason why;
    const auto t0 = std::chrono::steady_clock::now();
    auto c = remote_client::dial("ws://" + server().host() + ":" + std::to_string(port) + "/ws",
                                 rec.attach(opts), why);
    CHECK_FALSE(c);
    INFO("why: " << why.message());
    CHECK(why.code == errc::connection_lost);
    CHECK(why.detail.find("refused") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);  // the refusal, not the timeout
    CHECK(rec.events().empty());
  }
}

int main(int argc, char** argv) {
  try {
    (void)server();  // the environment names a server, or nothing runs
  } catch (const std::exception& e) {
    std::fprintf(stderr, "contract_remote: %s\n", e.what());
    return 2;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
