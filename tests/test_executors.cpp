// wspulse_client tests — where the client runs: on the application's io_context (many clients,
// one thread), async_dial / async_close, and the two Dispatch policies (callbacks on a thread
// of the client's, or inline on the I/O thread). Real sockets: the bundled test server.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/fixtures.hpp"
#include "support/wait_until.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::frame;
using wspulse::reason;
using wspulse::test_support::sink_logger;
using wspulse::test_support::thread_count;
using wspulse::test_support::wait_until;
using wspulse::testing::test_server;

namespace {

template <class Dispatch>
using client_on =
    wspulse::basic_client<wspulse::json_codec, sink_logger, wspulse::exponential_backoff<>,
                          wspulse::heartbeat<>, wspulse::buffer_bounds<>, Dispatch>;
using inline_client = client_on<wspulse::inline_callbacks>;
using threaded_client = client_on<wspulse::callback_thread>;

// An io_context run by one thread of the test's, stopped and joined at the end.
class context_thread {
 public:
  context_thread() : thread_([this] { io_.run(); }) {}
  ~context_thread() {
    work_.reset();
    thread_.join();
  }
  asio::io_context& io() { return io_; }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{asio::make_work_guard(io_)};
  std::thread thread_;
};

// Which threads ran a client's callbacks.
class thread_log {
 public:
  void note() {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.insert(std::this_thread::get_id());
  }
  std::set<std::thread::id> ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::thread::id> ids_;
};

std::string room_url(const test_server& server, int i) {
  return server.url("/ws?room=r" + std::to_string(i) + "&id=c" + std::to_string(i));
}

}  // namespace

TEST_SUITE("client on an io_context") {
  TEST_CASE("many clients share one io_context and its one thread; each exchanges frames") {
    test_server server;
    context_thread context;
    constexpr int clients = 40;
    constexpr int frames_each = 10;
    thread_log where;
    std::atomic<int> received{0};
    std::atomic<int> dialed{0};
    std::atomic<int> closed{0};
    std::mutex mu;
    std::vector<inline_client> live;
    const std::size_t threads_before = thread_count();
    for (int i = 0; i < clients; ++i) {
      inline_client::options opts;
      opts.on_message([&](const frame&) {
        where.note();
        ++received;
      });
      opts.on_disconnect([&](const reason& r) {
        where.note();
        CHECK_FALSE(r);
      });
      inline_client::async_dial(context.io(), room_url(server, i), std::move(opts),
                                [&](reason why, inline_client c) {
                                  where.note();
                                  CHECK_FALSE(why);
                                  std::lock_guard<std::mutex> lock(mu);
                                  live.push_back(std::move(c));
                                  ++dialed;
                                });
    }
    REQUIRE(wait_until([&] { return dialed == clients; }, 10s));
    CHECK(thread_count() == threads_before);  // no thread per client
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& c : live)
        for (int n = 0; n < frames_each; ++n)
          REQUIRE(c.send_for(frame{"", "bench", "{\"n\":" + std::to_string(n) + "}"}, 5s) ==
                  std::error_code{});
    }
    REQUIRE(wait_until([&] { return received == clients * frames_each; }, 10s));
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& c : live) c.async_close([&] { ++closed; });
    }
    REQUIRE(wait_until([&] { return closed == clients; }, 10s));
    std::lock_guard<std::mutex> lock(mu);
    for (auto& c : live) CHECK(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(where.ids() == std::set<std::thread::id>{context.id()});
    CHECK(wait_until([&] { return server.connections().empty(); }, 5s));
  }

  TEST_CASE("a blocking dial on the thread running its io_context fails instead of deadlocking") {
    test_server server;
    context_thread context;
    std::promise<reason> outcome;
    asio::post(context.io(), [&] {
      reason why;
      inline_client c = inline_client::dial(context.io(), room_url(server, 1), {}, why);
      CHECK_FALSE(c);
      outcome.set_value(why);
    });
    const reason why = outcome.get_future().get();
    CHECK(why.code == std::errc::resource_deadlock_would_occur);
    CHECK(why.detail.find("async_dial") != std::string::npos);
  }

  TEST_CASE("a blocking dial and close from another thread; callbacks on the client's thread") {
    test_server server;
    context_thread context;
    thread_log where;
    std::atomic<int> received{0};
    threaded_client::options opts;
    opts.on_message([&](const frame&) {
      where.note();
      ++received;
    });
    threaded_client c = threaded_client::dial(context.io(), room_url(server, 2), std::move(opts));
    REQUIRE(c);
    REQUIRE(c.send(frame{"", "chat", "{}"}) == std::error_code{});
    REQUIRE(wait_until([&] { return received == 1; }, 5s));
    c.close();
    CHECK(c.done().wait_for(0s) == std::future_status::ready);
    const auto ids = where.ids();
    REQUIRE(ids.size() == 1);
    CHECK(*ids.begin() != context.id());
    CHECK(*ids.begin() != std::this_thread::get_id());
  }

  TEST_CASE("a client destroyed inside its inline callback does not block the io_context") {
    test_server server;
    context_thread context;
    std::optional<inline_client> holder;
    std::atomic<bool> disconnected{false};
    inline_client::options opts;
    opts.on_message([&](const frame&) { holder.reset(); });  // the handle dies on the I/O thread
    opts.on_disconnect([&](const reason& r) {
      CHECK_FALSE(r);
      disconnected = true;
    });
    holder.emplace(inline_client::dial(context.io(), room_url(server, 3), std::move(opts)));
    std::shared_future<void> done = holder->done();
    REQUIRE(holder->send(frame{"", "chat", "{}"}) == std::error_code{});
    REQUIRE(done.wait_for(5s) == std::future_status::ready);
    CHECK(disconnected);
    std::promise<void> ran;  // the context still runs other work
    asio::post(context.io(), [&] { ran.set_value(); });
    CHECK(ran.get_future().wait_for(5s) == std::future_status::ready);
    CHECK(wait_until([&] { return server.connections().empty(); }, 5s));
  }

  TEST_CASE("async_close's handler runs once, after on_disconnect") {
    test_server server;
    context_thread context;
    std::mutex mu;
    std::vector<std::string> order;
    auto note = [&](const char* what) {
      std::lock_guard<std::mutex> lock(mu);
      order.emplace_back(what);
    };
    inline_client::options opts;
    opts.on_transport_drop([&](const reason&) { note("drop"); });
    opts.on_disconnect([&](const reason&) { note("disconnect"); });
    inline_client c = inline_client::dial(context.io(), room_url(server, 4), std::move(opts));
    REQUIRE(c);
    std::atomic<int> handlers{0};
    c.async_close([&] {
      note("closed");
      ++handlers;
    });
    REQUIRE(c.done().wait_for(5s) == std::future_status::ready);
    CHECK(handlers == 1);
    c.async_close([&] { ++handlers; });  // already done: runs at once, on this thread
    CHECK(handlers == 2);
    std::lock_guard<std::mutex> lock(mu);
    CHECK(order == std::vector<std::string>{"drop", "disconnect", "closed"});
  }

  TEST_CASE("async_dial reports a failure with its reason and an empty client") {
    context_thread context;
    struct outcome {
      reason why;
      bool client = true;
    };
    auto dial = [&](const std::string& url) {
      auto result = std::make_shared<std::promise<outcome>>();
      inline_client::async_dial(context.io(), url, {}, [result](reason why, inline_client c) {
        result->set_value({std::move(why), static_cast<bool>(c)});
      });
      return result->get_future().get();
    };
    SUBCASE("a bad URL") {
      const outcome o = dial("ftp://127.0.0.1/");
      CHECK(o.why.code == errc::invalid_url);
      CHECK_FALSE(o.client);
    }
    SUBCASE("nobody listening") {
      const outcome o = dial("ws://127.0.0.1:1/ws");
      CHECK(o.why.code == errc::connection_lost);
      CHECK_FALSE(o.why.detail.empty());
      CHECK_FALSE(o.client);
    }
  }
  // Clients on one io_context share its websocketpp endpoint (detail/shared_endpoint.hpp),
  // which lives as long as the context: a dial abandoned in its TCP connect leaves websocketpp
  // handlers holding the endpoint by raw pointer, run after the client is gone (an ASan report
  // if the endpoint went with the client). And nothing of it stays armed: websocketpp leaves
  // its connect timer (330 s here) armed when a connect is aborted, which would keep the
  // application's io_context from running out of work.
  TEST_CASE("dials abandoned mid-connect leave nothing armed, and the endpoint usable") {
    test_server server;
    asio::io_context io{1};
    auto work = asio::make_work_guard(io);
    std::promise<void> ran_out;
    std::thread runner([&] {
      io.run();
      ran_out.set_value();
    });
    // A listener whose accept queue (backlog 0: one connection) is full: the client's SYN is
    // dropped, its connect stays in flight until handshake_timeout abandons it.
    asio::io_context local;
    asio::ip::tcp::acceptor full(local);
    full.open(asio::ip::tcp::v4());
    full.bind({asio::ip::make_address("127.0.0.1"), 0});
    full.listen(0);
    asio::ip::tcp::socket filler(local);
    filler.connect(full.local_endpoint());
    const std::string stuck_url = "ws://127.0.0.1:" + std::to_string(full.local_endpoint().port());
    for (int i = 0; i < 3; ++i) {
      auto failed = std::make_shared<std::promise<reason>>();
      inline_client::options opts;
      opts.handshake_timeout(50ms);
      inline_client::async_dial(io, stuck_url + "/ws?id=s" + std::to_string(i), std::move(opts),
                                [failed](reason why, inline_client c) {
                                  CHECK_FALSE(c);
                                  failed->set_value(std::move(why));
                                });
      auto outcome = failed->get_future();
      REQUIRE(outcome.wait_for(10s) == std::future_status::ready);
      CHECK(outcome.get().code == errc::handshake_timeout);
    }
    CHECK(asio::has_service<wspulse::detail::shared_endpoint<wspulse::detail::plain_endpoint>>(io));
    {
      reason why;
      inline_client c = inline_client::dial(io, room_url(server, 1), {}, why);
      REQUIRE_FALSE(why);
      REQUIRE(c.send(frame{"", "after", "{}"}) == std::error_code{});
      CHECK(wait_until([&] { return server.received("c1").size() == 1; }, 5s));
      c.close();
      CHECK(c.done().wait_for(5s) == std::future_status::ready);
    }
    work.reset();
    const bool returned = ran_out.get_future().wait_for(10s) == std::future_status::ready;
    CHECK_MESSAGE(returned, "io_context::run() still has work after every client finished");
    if (!returned) io.stop();  // do not hang the suite for websocketpp's 330 s
    runner.join();
  }
}

TEST_SUITE("client with inline callbacks") {
  TEST_CASE("on its own io_context: callbacks on the I/O thread, replies from inside them") {
    test_server server;
    constexpr int round_trips = 200;
    thread_log where;
    std::atomic<int> received{0};
    std::optional<inline_client> holder;
    std::promise<void> finished;
    inline_client::options opts;
    opts.on_message([&](const frame& f) {
      where.note();
      if (++received == round_trips) return finished.set_value();
      CHECK(holder->send(f) == std::error_code{});  // the echo of the echo, from the I/O thread
    });
    std::promise<inline_client> dialed;
    inline_client::async_dial(room_url(server, 5), std::move(opts),
                              [&](reason why, inline_client c) {
                                CHECK_FALSE(why);
                                dialed.set_value(std::move(c));
                              });
    holder.emplace(dialed.get_future().get());
    REQUIRE(*holder);
    REQUIRE(holder->send(frame{"", "ping", "{}"}) == std::error_code{});
    REQUIRE(finished.get_future().wait_for(10s) == std::future_status::ready);
    holder->close();
    const auto ids = where.ids();
    REQUIRE(ids.size() == 1);
    CHECK(*ids.begin() != std::this_thread::get_id());
  }

  TEST_CASE("one thread per client on its own io_context, none on the application's") {
    test_server server;
    const std::size_t before = thread_count();
    inline_client own = inline_client::dial(room_url(server, 6));
    CHECK(thread_count() == before + 1);
    context_thread context;
    const std::size_t with_context = thread_count();
    inline_client shared = inline_client::dial(context.io(), room_url(server, 7));
    CHECK(thread_count() == with_context);
    own.close();
    shared.close();
    CHECK(thread_count() == with_context - 1);
  }
}

TEST_SUITE("client with a callback thread") {
  TEST_CASE_TEMPLATE("replies from the callback thread, spinning or not; close ends the spin",
                     Dispatch, wspulse::callback_thread, wspulse::basic_callback_thread<0>,
                     wspulse::basic_callback_thread<10000>) {
    using client = client_on<Dispatch>;
    test_server server;
    constexpr int round_trips = 300;
    thread_log where;
    std::atomic<int> received{0};
    std::atomic<int> out_of_order{0};
    std::optional<client> holder;
    std::promise<void> finished;
    typename client::options opts;
    opts.on_message([&](const frame& f) {
      where.note();
      const int n = ++received;
      if (f.payload != std::to_string(n - 1)) ++out_of_order;
      if (n == round_trips) return finished.set_value();
      CHECK(holder->send(frame{"", "n", std::to_string(n)}) == std::error_code{});
    });
    holder.emplace(client::dial(room_url(server, 8), std::move(opts)));
    REQUIRE(holder->send(frame{"", "n", "0"}) == std::error_code{});
    REQUIRE(finished.get_future().wait_for(10s) == std::future_status::ready);
    CHECK(out_of_order == 0);
    const auto started = std::chrono::steady_clock::now();
    holder->close();  // both threads are likely spinning now: they must stop and be joined
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(holder->done().wait_for(5s) == std::future_status::ready);
    const auto ids = where.ids();
    REQUIRE(ids.size() == 1);
    CHECK(*ids.begin() != std::this_thread::get_id());
  }
}
