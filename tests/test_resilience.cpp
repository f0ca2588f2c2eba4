// wspulse_client tests — resilience: reconnect contract scenarios (behaviour.md § Tests 3, 4, 5,
// 9, 10), server restarts under concurrent senders, network faults through an in-test TCP
// proxy (black hole, refusal, hanging dials), the stop/refresh hooks, and a seeded chaos soak.
// Real loopback sockets, short timings; every wait has a deadline.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/fixtures.hpp"
#include "support/fault_proxy.hpp"
#include "support/proc_self.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::test_support::fault_proxy;
using wspulse::test_support::is_hub_close;
using wspulse::test_support::open_fds;
using wspulse::test_support::quiet_client;
using wspulse::test_support::quiet_options;
using wspulse::test_support::recorder;
using wspulse::test_support::server_knows;
using wspulse::test_support::thread_count;
using wspulse::test_support::wait_until;
using wspulse::testing::server_options;
using wspulse::testing::test_server;

namespace {

std::size_t count_of(const std::vector<std::string>& v, const std::string& what) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), what));
}

// The callback rules behaviour.md states, checked on the recorded order:
// drops and restores alternate starting with a drop; at most one disconnect, and it is last;
// a restore precedes any message that follows a drop. Returns "" or what is wrong.
std::string lifecycle_problem(const std::vector<std::string>& events) {
  bool down = false;  // a drop was seen and no restore yet
  std::size_t disconnects = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string& e = events[i];
    if (disconnects) return "event '" + e + "' after on_disconnect (#" + std::to_string(i) + ")";
    if (e == "drop") {
      if (down) return "two drops without a restore between them (#" + std::to_string(i) + ")";
      down = true;
    } else if (e == "restore") {
      if (!down) return "restore without a drop before it (#" + std::to_string(i) + ")";
      down = false;
    } else if (e == "message") {
      if (down) return "message after a drop before the restore (#" + std::to_string(i) + ")";
    } else if (e == "disconnect") {
      ++disconnects;
    }
  }
  return {};
}

// What the server received of one numbered stream ("<tag>:<n>" payloads), as numbers.
std::vector<long> numbers_of(const std::vector<std::string>& received, const std::string& event) {
  std::vector<long> out;
  const std::string key = "\"event\":\"" + event + "\"";
  for (const auto& text : received) {
    if (text.find(key) == std::string::npos) continue;
    const auto p = text.find("\"payload\":");
    if (p == std::string::npos) continue;
    out.push_back(std::strtol(text.c_str() + p + 10, nullptr, 10));
  }
  return out;
}

// Checks a stream numbered 0..total-1 as the server received it. Within one transport the
// server sees consecutive numbers (TCP keeps order). Where a transport ends and the next one
// starts, the stream may jump back (a "rewind": frames whose write had not completed when the
// transport died are written again, and some of them may already have arrived) or forward (a
// "gap": frames whose write completed just before the transport died, lost in the OS buffers;
// behaviour.md § send). Any break of the +1 sequence is counted; a correct client has at most
// one per drop, and a frame never arrives after a later one except in a rewind.
struct stream_report {
  std::size_t breaks = 0;      // places where the next number is not last + 1
  std::size_t rewinds = 0;     // breaks going back (re-sent frames)
  std::size_t duplicates = 0;  // frames received more than once
  std::size_t gaps = 0;        // breaks going past the highest number seen + 1
  std::size_t missing = 0;     // frames never received
  bool complete_tail = false;  // the last frame arrived
  std::string first_problem;   // a number out of range, "" if none
  std::string first_break;     // where the first break is, for the failure message
  std::string describe() const {
    std::ostringstream os;
    os << "breaks=" << breaks << " rewinds=" << rewinds << " duplicates=" << duplicates
       << " gaps=" << gaps << " missing=" << missing << " tail=" << complete_tail << " problem='"
       << first_problem << "' first_break='" << first_break << "'";
    return os.str();
  }
};

inline stream_report check_stream(const std::vector<long>& got, long total) {
  stream_report r;
  std::vector<int> seen(static_cast<std::size_t>(total > 0 ? total : 0), 0);
  long last = -1, max_seen = -1;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const long x = got[i];
    if (x < 0 || x >= total) {
      if (r.first_problem.empty()) r.first_problem = "unknown number " + std::to_string(x);
      continue;
    }
    if (seen[static_cast<std::size_t>(x)]++) ++r.duplicates;
    if (x != last + 1) {
      ++r.breaks;
      if (x <= max_seen) ++r.rewinds;
      if (x > max_seen + 1) ++r.gaps;
      if (r.first_break.empty())
        r.first_break =
            std::to_string(last) + " -> " + std::to_string(x) + " at #" + std::to_string(i);
    }
    last = x;
    max_seen = std::max(max_seen, x);
  }
  for (long n = 0; n < total; ++n) r.missing += seen[static_cast<std::size_t>(n)] == 0;
  r.complete_tail = total == 0 || seen[static_cast<std::size_t>(total - 1)] != 0;
  if (last != total - 1) ++r.breaks;  // the stream ends early: its tail was lost at a drop
  return r;
}

// After a fault, proves the client works again and everything queued before has been written:
// sends numbered "sentinel" frames until the server has received one (FIFO: what was accepted
// before it has then been written, or was lost at a drop). Each try waits up to 1.5 s.
inline bool flush_through(quiet_client& c, const test_server& server, const std::string& id) {
  for (int k = 0; k < 20; ++k) {
    const std::string payload = std::to_string(k);
    if (c.send({"", "sentinel", payload})) return false;
    const bool arrived = wait_until(
        [&] {
          for (const auto& n : numbers_of(server.received(id), "sentinel"))
            if (n == k) return true;
          return false;
        },
        1500ms, 10ms);
    if (arrived) return true;
  }
  return false;
}

}  // namespace

TEST_SUITE("resilience") {
  // behaviour.md § Tests 3 and 9.
  TEST_CASE(
      "kick with reconnect on: drop(server_closed 1000 kicked), restore, frames flow; no restore "
      "on first connect") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 10ms, 20ms);
    auto c = quiet_client::dial(server.url("/ws?id=k1"), rec.attach(opts));
    REQUIRE(server_knows(server, "k1"));
    REQUIRE(c.send({"", "first", "1"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    CHECK(rec.lifecycle().empty());  // first connect: no restore
    REQUIRE(server.kick("k1"));
    REQUIRE(rec.wait_event_count("restore", 1));
    CHECK(is_hub_close(rec.drops().at(0), 1000, "kicked"));
    REQUIRE(server_knows(server, "k1"));
    REQUIRE(c.send({"", "second", "2"}) == std::error_code{});
    REQUIRE(rec.wait_frames(2));
    CHECK(rec.frames()[1].event == "second");
    CHECK(server.accepted_count() == 2);
    // A second outage also ends in exactly one restore.
    REQUIRE(server.kick("k1"));
    REQUIRE(rec.wait_event_count("restore", 2));
    c.close();
    CHECK(rec.lifecycle() ==
          std::vector<std::string>{"drop", "restore", "drop", "restore", "drop", "disconnect"});
    CHECK(lifecycle_problem(rec.events()) == "");
    CHECK(rec.violations() == 0);
  }

  // behaviour.md § Tests 4.
  TEST_CASE("every redial fails: disconnect(retries_exhausted) exactly once, done ready") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(4, 5ms, 10ms);
    auto c = quiet_client::dial(server.url("/ws?id=x1"), rec.attach(opts));
    REQUIRE(server_knows(server, "x1"));
    server.shutdown();  // 1001 now, 503 for every redial
    REQUIRE(rec.wait_disconnect());
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
    const auto d = rec.disconnects();
    REQUIRE(d.size() == 1);
    CHECK(d[0].code == errc::retries_exhausted);
    CHECK(d[0].http_status == 503);
    CHECK(is_hub_close(rec.drops().at(0), 1001, "server shutting down"));
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(c.send({"", "late", "1"}) == errc::connection_closed);
    c.close();
    CHECK(rec.lifecycle().size() == 2);
    CHECK(rec.violations() == 0);
  }

  // behaviour.md § Tests 5.
  TEST_CASE("close during backoff: the loop stops, disconnect(no error), nothing after") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 30000ms, 60000ms);
    auto c = quiet_client::dial(server.url("/ws?id=b1"), rec.attach(opts));
    REQUIRE(server_knows(server, "b1"));
    REQUIRE(server.kick("b1"));
    REQUIRE(rec.wait_drops(1));
    const auto start = std::chrono::steady_clock::now();
    c.close();
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK_FALSE(rec.disconnects().at(0));
    CHECK(server.accepted_count() == 1);
    CHECK(rec.violations() == 0);
  }

  // behaviour.md § Tests 10, with reconnect on.
  TEST_CASE("a stalled write longer than write_wait: drop(write_timeout), then reconnect") {
    server_options so;
    so.max_message = 0;
    test_server server(so);
    recorder rec;
    quiet_options opts;
    opts.heartbeat(5000ms, 10000ms, 300ms).auto_reconnect(0, 10ms, 20ms).max_message_size(0);
    auto c = quiet_client::dial(server.url("/ws?id=w1&room=w1"), rec.attach(opts));
    REQUIRE(server_knows(server, "w1"));
    REQUIRE(server.stall("w1", 20000));
    const std::string blob = "\"" + std::string(256 * 1024, 'y') + "\"";
    const int blobs = 48;  // 12 MiB: more than loopback's socket buffers hold
    const auto start = std::chrono::steady_clock::now();
    int queued = 0;
    for (int i = 0; i < blobs && rec.drops().empty(); ++i) {
      if (c.send({"", "blob", blob}) == errc::send_buffer_full) break;
      ++queued;
    }
    INFO("blobs queued " << queued << ", drops " << rec.drops().size());
    REQUIRE(rec.wait_drops(1, 10s));
    CHECK(rec.drops().at(0).code == errc::write_timeout);
    CHECK(std::chrono::steady_clock::now() - start < 8s);
    // The queued blobs (their write never completed) go out again on the new transport; that
    // such a backlog drains is the next test's subject.
    REQUIRE(rec.wait_event_count("restore", 1, 10s));
    c.close();
    CHECK(lifecycle_problem(rec.events()) == "");
    CHECK(rec.violations() == 0);
  }

  // Regression: the client once handed websocketpp its whole queue, which websocketpp writes
  // as ONE batch under ONE write_wait deadline. A backlog that could not be written within
  // write_wait then timed out on every new transport and was re-sent whole: a livelock.
  // Under TSan the 50 MiB echo through the hub-like server no longer drains within the test's
  // budget (seen in CI after the server gained its send buffer): skipped there, run everywhere else.
  TEST_CASE("a backlog bigger than one write_wait can carry still drains after a write timeout" *
            doctest::skip(wspulse::test_support::under_tsan)) {
    server_options so;
    so.max_message = 0;
    test_server server(so);
    recorder rec;
    quiet_options opts;
    opts.heartbeat(5000ms, 10000ms, 300ms).auto_reconnect(0, 10ms, 20ms).max_message_size(0);
    auto c = quiet_client::dial(server.url("/ws?id=w2&room=w2"), rec.attach(opts));
    REQUIRE(server_knows(server, "w2"));
    REQUIRE(server.stall("w2", 20000));
    const std::string blob = "\"" + std::string(256 * 1024, 'z') + "\"";
    for (int i = 0; i < 200; ++i)
      REQUIRE(c.send({"", "blob", blob}) == std::error_code{});  // 50 MiB
    REQUIRE(c.send({"", "after", "1"}) == std::error_code{});
    REQUIRE(rec.wait_drops(1, 10s));
    CHECK(rec.drops().at(0).code == errc::write_timeout);
    const bool drained = wait_until(
        [&] {
          for (const auto& f : rec.frames())
            if (f.event == "after") return true;
          return false;
        },
        45s, 20ms);  // plain builds drain in ~1-2 s; sanitizers are 5-15x slower
    std::size_t timeouts = 0;
    std::string others;
    for (const auto& d : rec.drops()) {
      timeouts += d.code == errc::write_timeout ? 1 : 0;
      if (d.code != errc::write_timeout) others += d.message() + "; ";
    }
    const auto got = server.received("w2");
    INFO("drops so far: " << rec.drops().size() << ", of them write_timeout: " << timeouts
                          << " (others: " << others << ")"
                          << "; blobs the server received (200 queued): "
                          << std::count_if(got.begin(), got.end(), [](const std::string& m) {
                               return m.find("\"event\":\"blob\"") != std::string::npos;
                             }));
    // The livelock never delivered the frame behind the backlog. Under a sanitizer a slice may
    // still miss the 300 ms deadline now and then (more drops), but each transport progresses.
    CHECK(drained);
    MESSAGE("backlog drained after " << rec.drops().size() << " drop(s)");
    c.close();
  }

  TEST_CASE(
      "server restart on the same port while 4 threads send: order per sender, losses and re-sends "
      "only at a drop") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 5ms, 20ms);
    auto c = quiet_client::dial(server.url("/ws?id=rs&room=rs"), rec.attach(opts));
    REQUIRE(server_knows(server, "rs"));
    constexpr int senders = 4;
    constexpr long per_sender = 1500;
    std::atomic<bool> abort{false};
    std::atomic<int> finished{0};
    std::vector<long> accepted(senders, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < senders; ++t) {
      threads.emplace_back([&, t] {
        const std::string tag = "s" + std::to_string(t);
        // Paced so that the restarts fall in the middle of the streams.
        for (long i = 0; i < per_sender && !abort.load(); i += 50) {
          for (long j = i; j < i + 50 && j < per_sender; ++j) {
            for (;;) {
              const auto ec = c.send({"", tag, std::to_string(j)});
              if (!ec) {
                ++accepted[static_cast<std::size_t>(t)];
                break;
              }
              if (ec != errc::send_buffer_full || abort.load()) return;
              std::this_thread::yield();
            }
          }
          std::this_thread::sleep_for(1ms);  // pacing, not synchronisation
        }
        ++finished;
      });
    }
    int restarts = 0;
    for (int round = 0; round < 5 && finished.load() < senders; ++round) {
      server.shutdown();
      if (!rec.wait_drops(static_cast<std::size_t>(round + 1), 5s)) break;
      server.restart();
      if (!rec.wait_event_count("restore", static_cast<std::size_t>(round + 1), 5s)) break;
      ++restarts;
    }
    const bool all_done = wait_until([&] { return finished.load() == senders; }, 30s);
    abort = true;
    for (auto& th : threads) th.join();
    REQUIRE(all_done);
    CHECK(restarts >= 1);
    CHECK(flush_through(c, server, "rs"));
    c.close();
    const auto got = server.received("rs");
    const std::size_t drops = rec.drops().size();
    for (int t = 0; t < senders; ++t) {
      CAPTURE(t);
      CHECK(accepted[static_cast<std::size_t>(t)] == per_sender);
      const auto r = check_stream(numbers_of(got, "s" + std::to_string(t)), per_sender);
      INFO("stream: " << r.describe() << " drops=" << drops << " restarts=" << restarts);
      CHECK(r.first_problem == "");
      // behaviour.md § send: frames not yet written when a transport died are written again;
      // frames written just before may be lost (here: the server ignores what arrives after its
      // 1001 close). Both only at a transport boundary: at most one break per drop.
      CHECK(r.breaks <= drops);
    }
    CHECK(lifecycle_problem(rec.events()) == "");
    CHECK(rec.violations() == 0);
  }

  TEST_CASE(
      "frames accepted by 4 threads while the server is down all arrive after restart, once, in "
      "order") {
    test_server server;
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 5ms, 20ms);
    auto c = quiet_client::dial(server.url("/ws?id=rq&room=rq"), rec.attach(opts));
    REQUIRE(server_knows(server, "rq"));
    server.shutdown();
    REQUIRE(rec.wait_drops(1));
    constexpr int senders = 4;
    constexpr long per_sender = 60;  // 240 <= the 256-frame queue
    std::vector<std::thread> threads;
    std::atomic<int> refused{0};
    for (int t = 0; t < senders; ++t)
      threads.emplace_back([&, t] {
        for (long i = 0; i < per_sender; ++i)
          if (c.send({"", "q" + std::to_string(t), std::to_string(i)})) ++refused;
      });
    for (auto& th : threads) th.join();
    CHECK(refused.load() == 0);
    CHECK_FALSE(c.connected());
    server.restart();
    REQUIRE(rec.wait_event_count("restore", 1, 5s));
    const bool all = wait_until(
        [&] {
          return server.received("rq").size() >= static_cast<std::size_t>(senders * per_sender);
        },
        5s);
    CHECK(all);
    const auto got = server.received("rq");
    CHECK(got.size() == static_cast<std::size_t>(senders * per_sender));
    for (int t = 0; t < senders; ++t) {
      CAPTURE(t);
      const auto r = check_stream(numbers_of(got, "q" + std::to_string(t)), per_sender);
      INFO(r.describe());
      CHECK(r.breaks == 0);
      CHECK(r.missing == 0);
      CHECK(r.duplicates == 0);
    }
    c.close();
    CHECK(lifecycle_problem(rec.events()) == "");
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("black hole through the proxy: heartbeat_timeout within pong_wait, then reconnect") {
    test_server server;
    fault_proxy proxy(server.port());
    recorder rec;
    quiet_options opts;
    opts.heartbeat(50ms, 300ms, 300ms).auto_reconnect(0, 10ms, 20ms).handshake_timeout(1000ms);
    auto c = quiet_client::dial(proxy.url("/ws?id=bh"), rec.attach(opts));
    REQUIRE(server_knows(server, "bh"));
    REQUIRE(c.send({"", "before", "1"}) == std::error_code{});
    REQUIRE(rec.wait_frames(1));
    proxy.set_black_hole(true);
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(rec.wait_drops(1, 5s));
    const auto detected = std::chrono::steady_clock::now() - start;
    CHECK(rec.drops().at(0).code == errc::heartbeat_timeout);
    CHECK(detected >= 200ms);         // not before pong_wait minus one ping period
    CHECK(detected < 300ms + 700ms);  // within pong_wait (+ scheduling slack for sanitizers)
    proxy.set_black_hole(false);
    REQUIRE(rec.wait_event_count("restore", 1, 5s));
    REQUIRE(c.send({"", "after", "2"}) == std::error_code{});
    CHECK(wait_until(
        [&] {
          for (const auto& f : rec.frames())
            if (f.event == "after") return true;
          return false;
        },
        5s));
    CHECK(proxy.bytes_held() > 0);
    c.close();
    CHECK(lifecycle_problem(rec.events()) == "");
    CHECK(rec.violations() == 0);
  }

  TEST_CASE(
      "latency below pong_wait (RTT 160 ms, pong_wait 300 ms) keeps the transport; frames flow in "
      "order") {
    test_server server;
    fault_proxy proxy(server.port());
    recorder rec;
    quiet_options opts;
    opts.heartbeat(50ms, 300ms, 300ms).auto_reconnect(0, 10ms, 20ms);
    auto c = quiet_client::dial(proxy.url("/ws?id=lt"), rec.attach(opts));
    REQUIRE(server_knows(server, "lt"));
    proxy.set_latency(80);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i)
      REQUIRE(c.send({"", "lat", std::to_string(i)}) == std::error_code{});
    REQUIRE(rec.wait_frames(50, 5s));
    CHECK(std::chrono::steady_clock::now() - start >= 160ms);  // the delay is real
    // Several pong_wait periods under latency: still the same transport.
    CHECK_FALSE(wait_until([&] { return !rec.drops().empty(); }, 1000ms, 10ms));
    const auto got = rec.frames();
    for (int i = 0; i < 50; ++i)
      CHECK(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
    CHECK(proxy.bytes_up() > 0);
    CHECK(proxy.bytes_down() > 0);
    c.close();
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("refused connections (proxy accepts and resets) exhaust the retries") {
    test_server server;
    fault_proxy proxy(server.port());
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(3, 5ms, 10ms);
    auto c = quiet_client::dial(proxy.url("/ws?id=rf"), rec.attach(opts));
    REQUIRE(server_knows(server, "rf"));
    proxy.set_accept_mode(fault_proxy::accept_mode::reset);
    REQUIRE(proxy.reset_all() == 1);
    REQUIRE(rec.wait_disconnect(5s));
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(rec.drops().at(0).code == errc::connection_lost);
    CHECK(rec.disconnects().at(0).code == errc::retries_exhausted);
    CHECK(rec.disconnects().at(0).http_status == 0);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(proxy.accepted() == 1 + 3);  // the first dial, then max_retries dials
    CHECK(server.accepted_count() == 1);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE(
      "close during an in-flight redial (the proxy accepts and answers nothing): prompt, "
      "disconnect(no error)") {
    test_server server;
    fault_proxy proxy(server.port());
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 5ms, 10ms).handshake_timeout(20000ms);
    auto c = quiet_client::dial(proxy.url("/ws?id=cd"), rec.attach(opts));
    REQUIRE(server_knows(server, "cd"));
    proxy.set_accept_mode(fault_proxy::accept_mode::hold);
    REQUIRE(proxy.reset_all() == 1);
    REQUIRE(rec.wait_drops(1));
    REQUIRE(wait_until([&] { return proxy.accepted() >= 2; }, 5s));  // the redial is in flight
    const auto start = std::chrono::steady_clock::now();
    c.close();
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < 1s);
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK_FALSE(rec.disconnects().at(0));
    CHECK(proxy.accepted() == 2);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE(
      "close while the redial's handshake is black-holed (TCP up, upgrade forwarded nowhere)") {
    test_server server;
    fault_proxy proxy(server.port());
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 5ms, 10ms).handshake_timeout(20000ms);
    auto c = quiet_client::dial(proxy.url("/ws?id=ch"), rec.attach(opts));
    REQUIRE(server_knows(server, "ch"));
    proxy.set_black_hole(true);
    REQUIRE(proxy.reset_all() == 1);
    REQUIRE(rec.wait_drops(1));
    REQUIRE(wait_until([&] { return proxy.accepted() >= 2 && proxy.bytes_held() > 0; }, 5s));
    const auto start = std::chrono::steady_clock::now();
    c.close();
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK_FALSE(rec.disconnects().at(0));
    CHECK(server.accepted_count() == 1);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE(
      "stop_on_http_status({401}): a redial refused with 401 ends the client, no further dials") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<int> hook_calls{0};
    opts.auto_reconnect(0, 5ms, 10ms).stop_on_http_status({401});
    opts.before_reconnect([&](std::string& url, wspulse::header_list&) {
      ++hook_calls;
      url += "&reject=401";  // the token "expired": the server refuses the upgrade
    });
    auto c = quiet_client::dial(server.url("/ws?id=h1"), rec.attach(opts));
    REQUIRE(server_knows(server, "h1"));
    REQUIRE(server.kick("h1"));
    REQUIRE(rec.wait_disconnect(5s));
    const auto d = rec.disconnects().at(0);
    CHECK(d.code == errc::handshake_rejected);
    CHECK(d.http_status == 401);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(hook_calls.load() == 1);
    CHECK(server.accepted_count() == 1);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("stop_on_http_status: a status not in the list is retried") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<int> hook_calls{0};
    opts.auto_reconnect(3, 5ms, 10ms).stop_on_http_status({401});
    opts.before_reconnect([&](std::string& url, wspulse::header_list&) {
      if (++hook_calls == 1) url += "&reject=403";
    });
    auto c = quiet_client::dial(server.url("/ws?id=h2"), rec.attach(opts));
    REQUIRE(server_knows(server, "h2"));
    REQUIRE(server.kick("h2"));
    REQUIRE(rec.wait_disconnect(5s));  // 403 is not a stop status: retried until exhausted
    CHECK(rec.disconnects().at(0).code == errc::retries_exhausted);
    CHECK(rec.disconnects().at(0).http_status == 403);
    CHECK(hook_calls.load() == 3);
  }

  TEST_CASE("before_reconnect refreshes the token in the URL and adds a header") {
    test_server server;
    recorder rec;
    quiet_options opts;
    std::atomic<int> hook_calls{0};
    opts.auto_reconnect(0, 5ms, 10ms);
    opts.before_reconnect([&](std::string& url, wspulse::header_list& headers) {
      const int n = ++hook_calls;
      const auto at = url.find("token=");
      if (at != std::string::npos) url = url.substr(0, at) + "token=fresh" + std::to_string(n);
      headers.erase(std::remove_if(headers.begin(), headers.end(),
                                   [](const auto& h) { return h.first == "X-Token-Gen"; }),
                    headers.end());
      headers.emplace_back("X-Token-Gen", std::to_string(n));
    });
    auto c = quiet_client::dial(server.url("/ws?id=tk&token=stale"), rec.attach(opts));
    REQUIRE(server_knows(server, "tk"));
    CHECK(server.connections().at(0).query == "id=tk&token=stale");
    REQUIRE(server.kick("tk"));
    REQUIRE(rec.wait_event_count("restore", 1));
    const auto find_tk = [&](wspulse::testing::connection_info& out) {
      for (const auto& ci : server.connections())
        if (ci.id == "tk" && ci.query != "id=tk&token=stale") {
          out = ci;
          return true;
        }
      return false;
    };
    wspulse::testing::connection_info info;
    REQUIRE(wait_until([&] { return find_tk(info); }, 5s));
    CHECK(info.query == "id=tk&token=fresh1");
    std::string gen;
    std::size_t gen_headers = 0;
    for (const auto& h : info.headers)
      if (h.first == "X-Token-Gen") {
        gen = h.second;
        ++gen_headers;
      }
    CHECK(gen == "1");
    CHECK(gen_headers == 1);
    // Second outage: the hook sees the refreshed URL and headers and refreshes again.
    REQUIRE(server.kick("tk"));
    REQUIRE(rec.wait_event_count("restore", 2));
    REQUIRE(wait_until([&] { return find_tk(info) && info.query == "id=tk&token=fresh2"; }, 5s));
    gen_headers = 0;
    for (const auto& h : info.headers)
      if (h.first == "X-Token-Gen") {
        gen = h.second;
        ++gen_headers;
      }
    CHECK(gen == "2");
    CHECK(gen_headers == 1);
    c.close();
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("stop_on_close_code: a kick with 4001 matching the predicate ends the client") {
    test_server server(wspulse::test_support::closing_with_frame());  // the code must arrive
    recorder rec;
    quiet_options opts;
    opts.auto_reconnect(0, 5ms, 10ms).stop_on_close_code([](std::uint16_t code) {
      return code == 4001;
    });
    auto c = quiet_client::dial(server.url("/ws?id=sc"), rec.attach(opts));
    REQUIRE(server_knows(server, "sc"));
    // A code the predicate does not match keeps reconnecting.
    REQUIRE(server.kick("sc", 4000, "other"));
    REQUIRE(rec.wait_event_count("restore", 1));
    REQUIRE(server_knows(server, "sc"));
    REQUIRE(server.kick("sc", 4001, "revoked"));
    REQUIRE(rec.wait_disconnect(5s));
    const auto d = rec.disconnects().at(0);
    CHECK(d.code == errc::server_closed);
    CHECK(d.close_code == 4001);
    CHECK(d.close_text == "revoked");
    CHECK(rec.drops().back().close_code == 4001);
    CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "restore", "drop", "disconnect"});
    CHECK(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(server.accepted_count() == 2);
    CHECK(rec.violations() == 0);
  }

  TEST_CASE("chaos soak: 300 random faults while a sender streams numbered frames") {
    std::uint64_t seed = 20261125;
    if (const char* env = std::getenv("WSPULSE_SOAK_SEED")) seed = std::strtoull(env, nullptr, 10);
    // TSan runs ~10x slower and shares the machine with a second TSan run: fewer faults there.
    int faults_wanted = wspulse::test_support::under_tsan ? 200 : 300;
    if (const char* env = std::getenv("WSPULSE_SOAK_FAULTS")) faults_wanted = std::atoi(env);
    INFO("chaos seed " << seed << " (rerun with WSPULSE_SOAK_SEED=" << seed << ")");
    std::mt19937_64 rng(seed);
    const auto rand_int = [&](int lo, int hi) {
      return std::uniform_int_distribution<int>(lo, hi)(rng);
    };

    const std::size_t threads_before = thread_count();
    const std::size_t fds_before = open_fds();
    const auto soak_start = std::chrono::steady_clock::now();
    std::vector<std::string> events;
    std::vector<reason> drops;
    std::vector<reason> disconnects;
    std::vector<std::string> received;
    long accepted = 0;
    int faults = 0;
    int violations = 0;
    std::vector<int> fault_hist(7, 0);
    {
      test_server server;
      fault_proxy proxy(server.port());
      recorder rec;
      quiet_options opts;
      opts.heartbeat(50ms, 300ms, 300ms).auto_reconnect(0, 5ms, 20ms).handshake_timeout(500ms);
      auto c = quiet_client::dial(proxy.url("/ws?id=soak&room=soak"), rec.attach(opts));
      REQUIRE(server_knows(server, "soak"));

      std::atomic<bool> stop{false};
      std::atomic<long> sent{0};
      std::thread sender([&] {
        long i = 0;
        while (!stop.load()) {
          const auto ec = c.send({"", "n", std::to_string(i)});
          if (!ec) {
            sent.store(++i);
          } else if (ec != errc::send_buffer_full) {
            break;
          }
          std::this_thread::sleep_for(500us);  // pacing, not synchronisation
        }
      });

      const auto healthy = [&] {
        return c.connected() && proxy.open_connections() >= 1 && server_knows(server, "soak", 0ms);
      };
      bool stuck = false;
      for (; faults < faults_wanted; ++faults) {
        if (!wait_until(healthy, 5s)) {
          stuck = true;
          break;
        }
        const int kind = rand_int(0, 6);
        ++fault_hist[static_cast<std::size_t>(kind)];
        switch (kind) {
          case 0:
            server.kick("soak", rand_int(0, 1) ? 1000 : 4000 + rand_int(0, 99), "chaos");
            break;
          case 1: server.drop("soak"); break;
          case 2: proxy.reset_all(); break;
          case 3: {  // black hole briefly: shorter or longer than pong_wait
            proxy.set_black_hole(true);
            const auto until =
                std::chrono::steady_clock::now() + std::chrono::milliseconds(rand_int(20, 450));
            wait_until([&] { return std::chrono::steady_clock::now() >= until; }, 1s, 5ms);
            proxy.set_black_hole(false);
            break;
          }
          case 4: {  // server restart (503 while down)
            server.shutdown();
            const std::size_t d = rec.drops().size();
            wait_until([&] { return rec.drops().size() > d; }, 2s);
            server.restart();
            break;
          }
          case 5: server.stall("soak", rand_int(20, 450)); break;
          case 6: {  // cut the connection after a few more bytes
            proxy.close_after_bytes(static_cast<std::uint64_t>(rand_int(1, 4000)));
            const std::size_t d = rec.drops().size();
            wait_until([&] { return rec.drops().size() > d; }, 2s);
            proxy.close_after_bytes(0);
            break;
          }
        }
        // A short random gap in which frames flow (or the fault plays out).
        // (random values drawn here, not inside the predicate: the fault sequence depends on
        // the seed only)
        const std::size_t frames_goal =
            rec.frame_count() + static_cast<std::size_t>(rand_int(0, 20));
        const auto gap = std::chrono::milliseconds(rand_int(10, 60));
        wait_until([&] { return rec.frame_count() >= frames_goal; }, gap);
        if (std::chrono::steady_clock::now() - soak_start > 55s) break;
      }
      CHECK_FALSE(stuck);
      stop = true;
      sender.join();
      accepted = sent.load();
      // Let the tail reach the server (the client keeps reconnecting until it does).
      proxy.heal();
      server.restart();
      CHECK(flush_through(c, server, "soak"));
      c.close();
      CHECK(c.done().wait_for(0s) == std::future_status::ready);
      events = rec.events();
      drops = rec.drops();
      disconnects = rec.disconnects();
      violations = rec.violations();
      received = server.received("soak");
    }
    const auto elapsed = std::chrono::steady_clock::now() - soak_start;
    MESSAGE("chaos soak: seed "
            << seed << ", " << faults << " faults in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms, "
            << accepted << " frames, " << drops.size()
            << " drops; kinds kick/drop/reset/hole/restart/stall/cut = " << fault_hist[0] << "/"
            << fault_hist[1] << "/" << fault_hist[2] << "/" << fault_hist[3] << "/" << fault_hist[4]
            << "/" << fault_hist[5] << "/" << fault_hist[6]);
    CHECK(faults >= faults_wanted);
    CHECK(elapsed < 60s);
    CHECK(violations == 0);
    CHECK(lifecycle_problem(events) == "");
    CHECK(count_of(events, "disconnect") == 1);
    REQUIRE_FALSE(events.empty());
    CHECK(events.back() == "disconnect");
    REQUIRE(disconnects.size() == 1);
    CHECK_FALSE(disconnects[0]);
    CHECK(count_of(events, "drop") == drops.size());
    // The last drop is close()'s, unless a fault was still playing out when close() came.
    CHECK(count_of(events, "restore") + 1 >= drops.size());
    CHECK(count_of(events, "restore") <= drops.size());

    const auto r = check_stream(numbers_of(received, "n"), accepted);
    INFO("stream: " << r.describe() << " drops=" << drops.size());
    CHECK(r.first_problem == "");
    // Frames written to a transport that then died may be lost (behaviour.md § send: "lost in
    // the OS buffers") and frames whose write had not completed are re-sent: both only where a
    // transport ended, so never more breaks in the sequence than drops.
    CHECK(r.breaks <= drops.size());
    MESSAGE("delivery: " << r.describe());

    // No leaked threads or descriptors once everything is gone.
    CHECK(wait_until([&] { return thread_count() <= threads_before; }, 5s));
    CHECK(wait_until([&] { return open_fds() <= fds_before; }, 5s));
    CHECK(thread_count() == threads_before);
    CHECK(open_fds() == fds_before);
  }
}
