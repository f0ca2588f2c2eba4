// wspulse_client tests — lifetime, threads and user code on internal threads: abandoned dials,
// the close flush, thread exhaustion, name lookups that hang, what done() promises, exceptions
// from every kind of user code, before_reconnect's callback rules, and the detail of a drop.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/connect_proxy.hpp"
#include "support/fixtures.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::test_support::log_sink;
using wspulse::test_support::quiet_client;
using wspulse::test_support::quiet_options;
using wspulse::test_support::recorder;
using wspulse::test_support::server_knows;
using wspulse::test_support::thread_count;
using wspulse::test_support::wait_until;
using wspulse::testing::server_options;
using wspulse::testing::test_server;

namespace {

std::chrono::milliseconds since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0);
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The counters of tests/support/slow_dns_shim.cpp, when it is preloaded.
using counter_fn = int (*)();
counter_fn slow_dns_counter(const char* name) {
  return reinterpret_cast<counter_fn>(dlsym(RTLD_DEFAULT, name));
}
bool slow_dns_loaded() { return slow_dns_counter("wspulse_slow_dns_started") != nullptr; }
int slow_lookups_started() { return slow_dns_counter("wspulse_slow_dns_started")(); }
int slow_lookups_finished() { return slow_dns_counter("wspulse_slow_dns_finished")(); }
std::string slow_url(int ms, const test_server& server, const std::string& query) {
  return "ws://" + std::to_string(ms) + ".slow.wspulse.test:" + std::to_string(server.port()) +
         "/ws?" + query;
}

// Restores the thread seam whatever the test does.
struct thread_budget {
  explicit thread_budget(int n) { wspulse::detail::thread_start_budget.store(n); }
  ~thread_budget() { wspulse::detail::thread_start_budget.store(-1); }
};

// A JSON codec whose copies are counted (the count drops slowly, to widen the window in which
// a teardown after done() would be seen) and whose decode throws on a chosen payload.
struct probe_codec {
  static constexpr wspulse::wire_type wire = wspulse::wire_type::text;
  std::shared_ptr<std::atomic<int>> live = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> slow_teardown = std::make_shared<std::atomic<bool>>(false);
  probe_codec() { ++*live; }
  probe_codec(const probe_codec& o) : live(o.live), slow_teardown(o.slow_teardown) { ++*live; }
  probe_codec& operator=(const probe_codec& o) {
    --*live;
    live = o.live;
    ++*live;
    slow_teardown = o.slow_teardown;
    return *this;
  }
  ~probe_codec() {
    if (*slow_teardown) std::this_thread::sleep_for(50ms);  // widens a race; never waits on it
    --*live;
  }
  void encode(const frame& f, std::string& out, std::error_code& ec) const {
    wspulse::json_codec{}.encode(f, out, ec);
  }
  void decode(std::string_view data, frame& out, std::error_code& ec) const {
    if (data.find("throw-bad-alloc") != std::string_view::npos) throw std::bad_alloc();
    if (data.find("throw-int") != std::string_view::npos) throw 42;
    wspulse::json_codec{}.decode(data, out, ec);
  }
};
using probe_client = wspulse::basic_client<probe_codec, wspulse::null_logger>;

// A logger that throws on every record.
struct throwing_logger {
  static constexpr bool enabled = true;
  void log(wspulse::log_level, std::string_view, std::initializer_list<wspulse::log_field>) const {
    throw std::runtime_error("logger failed");
  }
};

}  // namespace

TEST_SUITE("client lifetime") {
  TEST_CASE("close() writes every accepted frame before the close frame, beyond one write slice") {
    server_options so;
    so.max_message = 1u << 20;
    test_server server(so);
    auto c = quiet_client::dial(server.url("/ws?id=flush"));
    REQUIRE(server_knows(server, "flush"));
    const std::string payload = "\"" + std::string(16 * 1024, 'x') + "\"";
    for (int i = 0; i < 100; ++i) REQUIRE(c.send({"", "bulk", payload}) == std::error_code{});
    c.close();
    CHECK(wait_until([&] { return server.received("flush").size() >= 100; }, 5s));
    CHECK(server.received("flush").size() == 100);
  }

  TEST_CASE("dial fails promptly with a clear reason when the system refuses a thread") {
    test_server server;
    std::string url = server.url("/ws?id=nothreads");
    int budget = 0;
    bool lookup = false;
    if (!wspulse::test_support::inline_shared_mode) {  // there, the client starts no thread
      SUBCASE("the I/O thread") { budget = 0; }
      SUBCASE("the callback thread") { budget = 1; }
    }
    SUBCASE("the name lookup's thread") {
      budget = wspulse::test_support::inline_shared_mode ? 0 : 2;
      lookup = true;
      url = "ws://localhost:" + std::to_string(server.port()) + "/ws?id=nothreads";
    }
    const std::size_t before = thread_count();
    reason why;
    bool returned = false;
    {
      thread_budget seam(budget);
      auto dialing = std::async(std::launch::async, [&] {
        auto c = quiet_client::dial(url, {}, why);
        return static_cast<bool>(c);
      });
      REQUIRE(dialing.wait_for(5s) == std::future_status::ready);
      CHECK_FALSE(dialing.get());
      returned = true;
    }
    CHECK(returned);
    INFO("reason: " << why.message());
    CHECK(why);
    CHECK(contains(why.message(), "Resource temporarily unavailable"));
    if (!lookup) CHECK(why.code == std::errc::resource_unavailable_try_again);
    CHECK(wait_until([&] { return thread_count() == before; }, 2s));
    CHECK(server.accepted_count() == 0);
  }

  TEST_CASE("done() is ready only once a client destroyed inside its callback is torn down") {
    test_server server;
    auto live = std::make_shared<std::atomic<int>>(0);
    auto slow = std::make_shared<std::atomic<bool>>(false);
    auto holder = std::make_shared<std::unique_ptr<probe_client>>();
    std::atomic<bool> sent{false};
    {
      probe_client::options opts;
      probe_codec codec;
      live = codec.live;
      slow = codec.slow_teardown;
      opts.codec(codec);
      opts.on_message([holder, &sent](const frame&) {
        wait_until([&] { return sent.load(); }, 5s);  // the main thread is done with *holder
        holder->reset();
      });
      *holder = std::make_unique<probe_client>(probe_client::dial(server.url(), opts));
    }  // the test's own codec copies die here, quickly
    const auto done = (*holder)->done();
    slow->store(true);  // from now on a codec copy takes a while to die: only the client's are left
    REQUIRE((*holder)->send({"", "bye", "1"}) == std::error_code{});
    sent = true;
    REQUIRE(done.wait_for(10s) == std::future_status::ready);
    CHECK(live->load() == 0);
  }

  TEST_CASE("a codec whose decode throws loses that message only") {
    test_server server;
    probe_client::options opts;
    std::atomic<int> got{0};
    std::atomic<bool> saw_bad{false};
    opts.on_message([&](const frame& f) {
      saw_bad = saw_bad || contains(f.payload, "throw-");
      ++got;
    });
    auto c = probe_client::dial(server.url(), opts);
    REQUIRE(c.send({"", "x", R"("throw-bad-alloc")"}) == std::error_code{});
    REQUIRE(c.send({"", "x", R"("throw-int")"}) == std::error_code{});
    REQUIRE(c.send({"", "x", R"("fine")"}) == std::error_code{});
    CHECK(wait_until([&] { return got.load() == 1; }, 5s));
    CHECK_FALSE(saw_bad.load());
    CHECK(c.connected());
    c.close();
  }

  TEST_CASE("a logger that throws changes nothing") {
    test_server server;
    using loud_client = wspulse::basic_client<wspulse::json_codec, throwing_logger>;
    loud_client::options opts;
    recorder rec;
    opts.auto_reconnect(0, 5ms, 10ms);
    auto c = loud_client::dial(server.url("/ws?id=loud"), rec.attach(opts));
    REQUIRE(server_knows(server, "loud"));
    REQUIRE(c.send({"", "x", "1"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    REQUIRE(server.kick("loud"));
    REQUIRE(rec.wait_event_count("restore", 1));
    c.close();
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "restore", "drop", "disconnect"});
  }

  TEST_CASE("a throwing stop_on_close_code predicate counts as no: the client reconnects") {
    test_server server;
    recorder rec;
    quiet_options opts;
    bool throw_int = false;
    SUBCASE("std::exception") { throw_int = false; }
    SUBCASE("not a std::exception") { throw_int = true; }
    opts.auto_reconnect(0, 5ms, 10ms).stop_on_close_code([throw_int](std::uint16_t) -> bool {
      if (throw_int) throw 42;
      throw std::runtime_error("predicate failed");
    });
    auto c = quiet_client::dial(server.url("/ws?id=pred"), rec.attach(opts));
    REQUIRE(server_knows(server, "pred"));
    REQUIRE(server.kick("pred", 4001, "revoked"));
    CHECK(rec.wait_event_count("restore", 1));
    c.close();
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("drop reasons carry the transport's own detail") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto c = quiet_client::dial(server.url("/ws?id=det"), rec.attach(opts));
    REQUIRE(server_knows(server, "det"));
    REQUIRE(server.drop("det"));  // TCP closed, no close frame
    REQUIRE(rec.wait_disconnect());
    const reason drop = rec.drops().at(0);
    INFO("drop: " << drop.message());
    CHECK(drop.code == errc::connection_lost);
    CHECK_FALSE(drop.detail.empty());
  }

  TEST_CASE("retries_exhausted carries the last attempt's failure") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(2, 5ms, 10ms).before_reconnect([](std::string& url, wspulse::header_list&) {
      if (!contains(url, "reject=")) url += "&reject=403";
    });
    auto c = quiet_client::dial(server.url("/ws?id=ex"), rec.attach(opts));
    REQUIRE(server_knows(server, "ex"));
    REQUIRE(server.kick("ex"));
    REQUIRE(rec.wait_disconnect());
    const reason d = rec.disconnects().at(0);
    INFO("disconnect: " << d.message());
    CHECK(d.code == errc::retries_exhausted);
    CHECK(d.http_status == 403);
    CHECK(contains(d.detail, "403"));
  }

  TEST_CASE(
      "a close the application asks for logs no drop: debug 'transport closed', then info 'client "
      "closed'") {
    auto capture = log_sink::instance().capture();
    test_server server;
    auto c = quiet_client::dial(server.url("/ws?id=cl"));
    REQUIRE(server_knows(server, "cl"));
    c.close();
    std::vector<std::string> transport_lines;
    bool closed = false;
    for (const auto& line : log_sink::instance().lines()) {
      if (contains(line, "transport ")) transport_lines.push_back(line);
      closed = closed || contains(line, "info client closed");
    }
    REQUIRE(transport_lines.size() == 1);
    CHECK(contains(transport_lines[0], "debug transport closed"));
    CHECK(closed);
    // A kick is a drop (warn), as before.
    log_sink::instance().clear();
    auto k = quiet_client::dial(server.url("/ws?id=kk"));
    REQUIRE(server_knows(server, "kk"));
    REQUIRE(server.kick("kk"));
    CHECK(wait_until(
        [] {
          for (const auto& line : log_sink::instance().lines())
            if (contains(line, "warn transport dropped")) return true;
          return false;
        },
        5s));
  }

  TEST_CASE("logs name the URL without query values and never show a header value") {
    auto capture = log_sink::instance().capture();
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<int> hook_calls{0};
    opts.auto_reconnect(0, 5ms, 10ms)
        .dial_headers({{"X-Auth", "secret-header"}})
        .before_reconnect([&](std::string& url, wspulse::header_list& headers) {
          ++hook_calls;
          url = server.url("/ws?id=lg&token=secret-fresh");
          headers = {{"X-Auth", "secret-header-2"}};
        });
    auto c = quiet_client::dial(server.url("/ws?id=lg&token=secret-token"), rec.attach(opts));
    REQUIRE(server_knows(server, "lg"));
    // Undecodable frames make the callback thread log (with the URL) while the I/O thread
    // swaps the URL for the next dial: the two must never share a string.
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 20; ++i) REQUIRE(server.send("lg", "{\"event\":7}"));
      REQUIRE(server.kick("lg"));
      REQUIRE(rec.wait_event_count("restore", static_cast<std::size_t>(round) + 1));
      REQUIRE(server_knows(server, "lg"));
    }
    c.close();
    const auto lines = log_sink::instance().lines();
    bool reconnecting = false, undecodable = false;
    for (const auto& line : lines) {
      reconnecting = reconnecting || contains(line, "reconnecting");
      undecodable = undecodable || contains(line, "undecodable");
      CHECK_FALSE(contains(line, "secret"));  // the sink aborts first; this says which line
    }
    CHECK(reconnecting);
    CHECK(undecodable);
    CHECK(hook_calls.load() == 3);
  }
}

TEST_SUITE("client lifetime: before_reconnect") {
  TEST_CASE("before_reconnect never runs while another callback of the client runs") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<bool> in_drop{false};
    std::atomic<int> overlaps{0};
    std::atomic<int> hook_calls{0};
    rec.on_drop_hook = [&](const reason&) {
      in_drop = true;
      std::this_thread::sleep_for(100ms);  // widens the window an overlap would need
      in_drop = false;
    };
    opts.auto_reconnect(0, 1ms, 2ms).before_reconnect([&](std::string&, wspulse::header_list&) {
      ++hook_calls;
      if (in_drop.load()) ++overlaps;
    });
    auto c = quiet_client::dial(server.url("/ws?id=ov"), rec.attach(opts));
    REQUIRE(server_knows(server, "ov"));
    REQUIRE(server.kick("ov"));
    REQUIRE(rec.wait_event_count("restore", 1));
    c.close();
    CHECK(hook_calls.load() >= 1);
    CHECK(overlaps.load() == 0);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("before_reconnect may close the client") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::unique_ptr<quiet_client> c;
    std::atomic<bool> released{false};  // main is done writing c
    opts.auto_reconnect(0, 5ms, 10ms).before_reconnect([&](std::string&, wspulse::header_list&) {
      wait_until([&] { return released.load(); }, 5s);
      c->close();
    });
    c = std::make_unique<quiet_client>(
        quiet_client::dial(server.url("/ws?id=bc"), rec.attach(opts)));
    released = true;
    REQUIRE(server_knows(server, "bc"));
    REQUIRE(server.kick("bc"));
    REQUIRE(rec.wait_disconnect());
    CHECK(c->done().wait_for(5s) == std::future_status::ready);
    CHECK_FALSE(rec.disconnects().at(0));
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(server.accepted_count() == 1);
  }

  TEST_CASE("before_reconnect may destroy the client") {
    test_server server;
    recorder rec;
    quiet_options opts;
    auto holder = std::make_shared<std::unique_ptr<quiet_client>>();
    auto released = std::make_shared<std::atomic<bool>>(false);  // main is done with *holder
    opts.auto_reconnect(0, 5ms, 10ms)
        .before_reconnect([holder, released](std::string&, wspulse::header_list&) {
          wait_until([&] { return released->load(); }, 5s);
          holder->reset();
        });
    *holder = std::make_unique<quiet_client>(
        quiet_client::dial(server.url("/ws?id=bd"), rec.attach(opts)));
    const auto done = (*holder)->done();
    released->store(true);  // TSan sees no order through the socket: say it with an atomic
    REQUIRE(server_knows(server, "bd"));
    REQUIRE(server.kick("bd"));
    REQUIRE(done.wait_for(5s) == std::future_status::ready);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(server.accepted_count() == 1);
  }

  TEST_CASE("before_reconnect that throws is a failed attempt; the next attempt goes on") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<int> hook_calls{0};
    opts.auto_reconnect(0, 5ms, 10ms).before_reconnect([&](std::string&, wspulse::header_list&) {
      if (++hook_calls == 1) throw 42;  // not even a std::exception
    });
    auto c = quiet_client::dial(server.url("/ws?id=bt"), rec.attach(opts));
    REQUIRE(server_knows(server, "bt"));
    REQUIRE(server.kick("bt"));
    REQUIRE(rec.wait_event_count("restore", 1));
    CHECK(hook_calls.load() == 2);
    // The server counts an upgrade in its open handler, a moment after the client saw the 101.
    CHECK(wait_until([&] { return server.accepted_count() == 2; }, 5s));
    c.close();
  }

  TEST_CASE("headers set by before_reconnect are validated like dial_headers") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(1, 5ms, 10ms)
        .before_reconnect([](std::string&, wspulse::header_list& headers) {
          headers = {{"X-Ok", "a\r\nX-Injected: evil"}};
        });
    auto c = quiet_client::dial(server.url("/ws?id=hv"), rec.attach(opts));
    REQUIRE(server_knows(server, "hv"));
    REQUIRE(server.kick("hv"));
    REQUIRE(rec.wait_disconnect());
    const reason d = rec.disconnects().at(0);
    INFO("disconnect: " << d.message());
    CHECK(d.code == errc::retries_exhausted);
    CHECK(contains(d.detail, "CR, LF"));
    CHECK(server.accepted_count() == 1);  // the bad headers never went on the wire
  }
}

TEST_SUITE("slow name resolution" * doctest::skip(!slow_dns_loaded())) {
  TEST_CASE("an abandoned redial never leaves a connection open") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<int> hook_calls{0};
    // Four redials each outlive handshake_timeout inside the lookup; the fifth goes direct.
    opts.auto_reconnect(0, 5ms, 10ms)
        .handshake_timeout(50ms)
        .before_reconnect([&](std::string& url, wspulse::header_list&) {
          url = ++hook_calls <= 4 ? slow_url(200, server, "id=ab") : server.url("/ws?id=ab");
        });
    const int lookups_before = slow_lookups_finished();
    auto c = quiet_client::dial(server.url("/ws?id=ab"), rec.attach(opts));
    REQUIRE(server_knows(server, "ab"));
    REQUIRE(server.kick("ab"));
    REQUIRE(rec.wait_event_count("restore", 1, 10s));
    REQUIRE(wait_until([&] { return slow_lookups_finished() - lookups_before >= 4; }, 5s));
    REQUIRE(wait_until([&] { return server.accepted_count() >= 2; }, 5s));
    // Every late lookup has finished: whatever it would have opened has had its chance.
    CHECK_FALSE(wait_until([&] { return server.accepted_count() > 2; }, 500ms));
    CHECK(server.accepted_count() == 2);
    CHECK(server.connections().size() == 1);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "restore"});
    c.close();
  }

  TEST_CASE("handshake_timeout bounds dial while the name lookup hangs") {
    test_server server;
    quiet_options opts;
    opts.handshake_timeout(200ms);
    reason why;
    const auto t0 = std::chrono::steady_clock::now();
    auto c = quiet_client::dial(slow_url(3000, server, "id=hang"), opts, why);
    const auto took = since(t0);
    INFO("dial took " << took.count() << " ms: " << why.message());
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_timeout);
    CHECK(took < 1500ms);
  }

  TEST_CASE("a proxy's host name is looked up like the server's: a hung lookup holds nothing") {
    test_server server;
    wspulse::test_support::connect_proxy proxy;
    quiet_options opts;
    opts.handshake_timeout(200ms).proxy("http://3000.slow.wspulse.test:" +
                                        std::to_string(proxy.port()));
    const int started_before = slow_lookups_started();
    reason why;
    const auto t0 = std::chrono::steady_clock::now();
    auto c = quiet_client::dial(server.url("/ws?id=px"), opts, why);
    const auto took = since(t0);  // includes the failed client's teardown
    INFO("dial took " << took.count() << " ms: " << why.message());
    CHECK_FALSE(c);
    CHECK(why.code == errc::handshake_timeout);
    CHECK(took < 1500ms);
    CHECK(slow_lookups_started() > started_before);  // the proxy's name, not the server's
  }

  TEST_CASE("destroying a client whose redial waits for a hung lookup does not wait for it") {
    test_server server;
    quiet_options opts;
    opts.auto_reconnect(0, 5ms, 10ms)
        .before_reconnect([&](std::string& url, wspulse::header_list&) {
          url = slow_url(3000, server, "id=dd");
        });
    const int started_before = slow_lookups_started();
    auto c = std::make_unique<quiet_client>(quiet_client::dial(server.url("/ws?id=dd"), opts));
    REQUIRE(server_knows(server, "dd"));
    REQUIRE(server.kick("dd"));
    REQUIRE(wait_until([&] { return slow_lookups_started() > started_before; }, 5s));
    const auto t0 = std::chrono::steady_clock::now();
    c.reset();
    const auto took = since(t0);
    INFO("destructor took " << took.count() << " ms");
    CHECK(took < 1500ms);
  }
}

TEST_SUITE("slow name resolution: guard") {
  TEST_CASE("the slow-DNS suite runs where it was asked for") {
    // ctest's client_tests_slow_dns preloads the shim and sets this: the suite above must not
    // have been skipped there.
    CHECK(slow_dns_loaded() == (std::getenv("WSPULSE_EXPECT_SLOW_DNS") != nullptr));
  }
}
