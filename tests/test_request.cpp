// wspulse_client tests — request / acknowledge (issue 9 §2) against the bundled test server,
// which echoes every frame to its room (the sender included) and, with answer=1, answers it.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/fixtures.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::request_error;
using wspulse::test_support::quiet_client;
using wspulse::test_support::quiet_options;
using wspulse::test_support::recorder;
using wspulse::test_support::server_knows;
using wspulse::test_support::wait_until;
using wspulse::testing::server_options;
using wspulse::testing::test_server;

namespace {

// The code a failed request future carries; {} when it holds an answer or is not ready.
std::error_code failure_of(std::future<frame>& answer, std::chrono::milliseconds wait = 5s) {
  if (answer.wait_for(wait) != std::future_status::ready) return {};
  try {
    answer.get();
  } catch (const request_error& e) {
    return e.code();
  }
  return {};
}

// The hub drops `id`: a hub application answers with the key in the payload. Here: an answer
// (event "….ack") whose payload holds "req":"<key>".
std::string req_key_of_answer(const frame& f) {
  const std::string ack = ".ack";
  if (f.event.size() < ack.size() || f.event.compare(f.event.size() - ack.size(), ack.size(), ack))
    return {};
  const std::string marker = "\"req\":\"";
  const auto at = f.payload.find(marker);
  if (at == std::string::npos) return {};
  const auto end = f.payload.find('"', at + marker.size());
  return end == std::string::npos ? std::string()
                                  : f.payload.substr(at + marker.size(), end - at - marker.size());
}

using small_table_client = wspulse::basic_client<
    wspulse::json_codec, wspulse::test_support::sink_logger, wspulse::exponential_backoff<>,
    wspulse::heartbeat<>,
    wspulse::buffer_bounds<256, std::size_t{1} << 20, 1024, std::size_t{16} << 20, 2>>;

}  // namespace

TEST_SUITE("request") {
  TEST_CASE(
      "request by id: the answer completes the future, the room's echo of the request does not") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a&answer=1"), rec.attach(opts));
    auto answer = c.request({"", "order.create", R"({"item":"tea"})"}, 5s);
    REQUIRE(answer.wait_for(5s) == std::future_status::ready);
    const frame got = answer.get();
    CHECK(got.event == "order.create.ack");  // the echo ("order.create") came first
    CHECK_FALSE(got.id.empty());             // the unique id the request was given
    CHECK(got.payload == R"({"item":"tea"})");
    // The echo is an ordinary frame for on_message; the answer was consumed by the request.
    REQUIRE(rec.wait_frames(1));
    c.close();
    const auto frames = rec.frames();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].event == "order.create");
    CHECK(frames[0].id == got.id);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("request by id keeps an id the caller chose, and refuses it while it is pending") {
    test_server server;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a"), opts);  // no answers
    auto first = c.request({"order-7", "order.create", "{}"}, 5s);
    auto again = c.request({"order-7", "order.create", "{}"}, 5s);
    CHECK(failure_of(again) == errc::duplicate_request);
    CHECK(first.wait_for(0s) == std::future_status::timeout);  // still pending
    c.close();
    CHECK(failure_of(first) == errc::connection_closed);
  }

  TEST_CASE("request_keyed: the answer_key extractor finds the answer, which carries no id") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.answer_key(req_key_of_answer);
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a&answer=1"), rec.attach(opts));
    auto answer = c.request_keyed("k-1", {"", "order.create", R"({"req":"k-1"})"}, 5s);
    REQUIRE(answer.wait_for(5s) == std::future_status::ready);
    const frame got = answer.get();
    CHECK(got.id.empty());  // sent without one, as to the hub
    CHECK(got.event == "order.create.ack");
    CHECK(req_key_of_answer(got) == "k-1");
    REQUIRE(rec.wait_frames(1));
    c.close();
    REQUIRE(rec.frames().size() == 1);  // only the echo
    CHECK(rec.frames()[0].event == "order.create");
  }

  TEST_CASE("request_keyed refuses an empty key, and works only with answer_key set") {
    test_server server;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a"), opts);
    auto no_extractor = c.request_keyed("k-1", {"", "e", "{}"}, 5s);
    CHECK(failure_of(no_extractor) == std::errc::invalid_argument);
    quiet_options keyed;
    keyed.answer_key(req_key_of_answer);
    auto k = quiet_client::dial(server.url("/ws?room=rq&id=b"), keyed);
    auto empty_key = k.request_keyed("", {"", "e", "{}"}, 5s);
    CHECK(failure_of(empty_key) == std::errc::invalid_argument);
  }

  TEST_CASE("the callback form runs its handler once, on the callback thread, with the answer") {
    test_server server;
    std::atomic<std::thread::id> callback_thread{};
    quiet_options opts;
    opts.on_transport_drop([&](const reason&) { callback_thread = std::this_thread::get_id(); });
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a&answer=1"), opts);
    std::mutex mu;
    std::vector<std::pair<reason, frame>> calls;
    std::thread::id handler_thread;
    const auto ec = c.request({"", "ping.me", "1"}, 5s, [&](const reason& why, const frame& f) {
      std::lock_guard<std::mutex> lock(mu);
      calls.emplace_back(why, f);
      handler_thread = std::this_thread::get_id();
    });
    CHECK(ec == std::error_code{});
    REQUIRE(wait_until(
        [&] {
          std::lock_guard<std::mutex> l(mu);
          return !calls.empty();
        },
        5s));
    c.close();  // the drop callback records the callback thread
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(calls.size() == 1);
    CHECK_FALSE(calls[0].first);
    CHECK(calls[0].second.event == "ping.me.ack");
    CHECK(handler_thread == callback_thread.load());
    CHECK(handler_thread != std::this_thread::get_id());
  }

  TEST_CASE("a request without an answer fails with request_timeout once its timeout passed") {
    test_server server;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a"), opts);  // echoes, never answers
    SUBCASE("future") {
      const auto start = std::chrono::steady_clock::now();
      auto answer = c.request({"", "e", "{}"}, 150ms);
      CHECK(failure_of(answer) == errc::request_timeout);
      CHECK(std::chrono::steady_clock::now() - start >= 150ms);
    }
    SUBCASE("a shorter timeout after a longer one fails first, each at its own deadline") {
      const auto start = std::chrono::steady_clock::now();
      auto slow = c.request({"", "e", "{}"}, 1500ms);
      auto fast = c.request({"", "e", "{}"}, 100ms);
      CHECK(failure_of(fast) == errc::request_timeout);
      CHECK(std::chrono::steady_clock::now() - start < 1s);  // not at the first one's deadline
      CHECK(slow.wait_for(0s) == std::future_status::timeout);
      CHECK(failure_of(slow) == errc::request_timeout);
      CHECK(std::chrono::steady_clock::now() - start >= 1500ms);
    }
    SUBCASE("callback") {
      std::promise<reason> failed;
      CHECK(c.request({"", "e", "{}"}, 100ms, [&](const reason& why, const frame&) {
        failed.set_value(why);
      }) == std::error_code{});
      auto f = failed.get_future();
      REQUIRE(f.wait_for(5s) == std::future_status::ready);
      CHECK(f.get().code == errc::request_timeout);
    }
  }

  TEST_CASE("pending requests fail with the drop's reason; requests after the restore work") {
    test_server server(wspulse::test_support::closing_with_frame());
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 20ms, 50ms);
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a&answer=0"), rec.attach(opts));
    REQUIRE(server_knows(server, "a"));
    auto lost = c.request({"", "e", "{}"}, 30s);
    REQUIRE(wait_until([&] { return rec.frame_count() >= 1; }, 5s));  // its echo: it was sent
    REQUIRE(server.kick("a"));
    REQUIRE(lost.wait_for(5s) == std::future_status::ready);
    try {
      lost.get();
      FAIL("the request did not fail");
    } catch (const request_error& e) {
      CHECK(e.code() == errc::server_closed);
      CHECK(e.why().close_code == 1000);
      CHECK(e.why().close_text == "kicked");
    }
    REQUIRE(rec.wait_event_count("restore", 1));
    auto later = c.request({"", "e", "{}"}, 200ms);
    CHECK(failure_of(later) == errc::request_timeout);  // pending again, on the new transport
    c.close();
  }

  TEST_CASE("close fails pending requests with connection_closed; later requests fail at once") {
    test_server server;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a"), opts);
    auto pending = c.request({"", "e", "{}"}, 30s);
    std::promise<reason> handler;
    CHECK(c.request({"", "e", "{}"}, 30s, [&](const reason& why, const frame&) {
      handler.set_value(why);
    }) == std::error_code{});
    c.close();
    CHECK(pending.wait_for(0s) == std::future_status::ready);  // before close() returned
    CHECK(failure_of(pending) == errc::connection_closed);
    auto h = handler.get_future();
    REQUIRE(h.wait_for(0s) == std::future_status::ready);
    CHECK(h.get().code == errc::connection_closed);
    auto after = c.request({"", "e", "{}"}, 1s);
    CHECK(failure_of(after, 0s) == errc::connection_closed);
    CHECK(c.request({"", "e", "{}"}, 1s, [](const reason&, const frame&) {
      FAIL("a request that was never sent has no handler call");
    }) == errc::connection_closed);
    quiet_client empty;
    auto none = empty.request({"", "e", "{}"}, 1s);
    CHECK(failure_of(none, 0s) == errc::connection_closed);
  }

  TEST_CASE("pending requests are bounded: one more fails with too_many_requests") {
    test_server server;
    small_table_client::options opts;
    auto c = small_table_client::dial(server.url("/ws?room=rq&id=a"), opts);
    auto one = c.request({"", "e", "{}"}, 300ms);
    auto two = c.request({"", "e", "{}"}, 300ms);
    auto three = c.request({"", "e", "{}"}, 300ms);
    CHECK(failure_of(three, 0s) == errc::too_many_requests);
    CHECK(failure_of(one) == errc::request_timeout);
    CHECK(failure_of(two) == errc::request_timeout);
    auto four = c.request({"", "e", "{}"}, 100ms);  // room again once they ended
    CHECK(failure_of(four) == errc::request_timeout);
  }

  TEST_CASE("bad requests fail at once with a clear error and send nothing") {
    test_server server;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a"), opts);
    REQUIRE(server_knows(server, "a"));
    auto bad_payload = c.request({"", "e", "{not json"}, 1s);
    CHECK(failure_of(bad_payload, 0s) == errc::invalid_payload);
    auto no_timeout = c.request({"", "e", "{}"}, 0ms);
    CHECK(failure_of(no_timeout, 0s) == std::errc::invalid_argument);
    auto too_long = c.request({"", "e", "{}"}, 11min);
    CHECK(failure_of(too_long, 0s) == std::errc::invalid_argument);
    CHECK(c.request({"", "e", "{}"}, 1s, nullptr) == std::errc::invalid_argument);
    c.close();
    CHECK(server.received("a").empty());
  }

  TEST_CASE("a throwing request handler is contained: the other requests still fail cleanly") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?room=rq&id=a"), rec.attach(opts));
    CHECK(c.request({"", "e", "{}"}, 30s, [](const reason&, const frame&) {
      throw std::runtime_error("handler failed");
    }) == std::error_code{});
    auto other = c.request({"", "e", "{}"}, 30s);
    c.close();
    CHECK(failure_of(other, 0s) == errc::connection_closed);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
  }
}
