// wspulse_client tests — a TCP fault-injection proxy on 127.0.0.1 (ephemeral port) between a
// client and a server: pass-through, latency, black hole, reset, close after N bytes, refuse.
// Runs on its own io thread; every control call is thread-safe (runs on that thread and waits).
// SPDX-License-Identifier: MIT
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace wspulse::test_support {

class fault_proxy {
 public:
  /// What happens to a new TCP connection.
  enum class accept_mode {
    forward,  ///< connect upstream and relay (subject to latency / black hole)
    reset,    ///< accept, then reset at once (SO_LINGER 0): the dial fails fast
    hold,     ///< accept and keep it, never connect upstream, never answer (dial hangs)
  };

  /// Relays 127.0.0.1:port() to 127.0.0.1:target_port.
  explicit fault_proxy(std::uint16_t target_port)
      : target_(asio::ip::make_address("127.0.0.1"), target_port),
        acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        work_(asio::make_work_guard(io_)) {
    port_ = acceptor_.local_endpoint().port();
    accept_next();
    thread_ = std::thread([this] {
      io_.run();
      finished_.set_value();
    });
  }

  ~fault_proxy() {
    asio::post(io_, [this] {
      asio::error_code ec;
      acceptor_.close(ec);
      auto all = sessions_;  // shut() erases from sessions_
      for (const auto& s : all) s->shut(true);
      work_.reset();
    });
    auto fut = finished_.get_future();
    // Everything is cancelled above; the bound only guards against a stuck handler.
    if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) io_.stop();
    thread_.join();
  }

  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "ws://127.0.0.1:<proxy port>" + path_and_query.
  std::string url(const std::string& path_and_query = "/ws") const {
    return "ws://127.0.0.1:" + std::to_string(port_) + path_and_query;
  }

  /// Delay every chunk by ms, both ways (order kept). 0 = none. Applies to data read from now.
  void set_latency(int ms) {
    run([this, ms] { latency_ = std::chrono::milliseconds(ms < 0 ? 0 : ms); });
  }
  /// On: connections stay open and nothing is forwarded either way (also on new connections);
  /// what is read meanwhile is held, like the segments TCP keeps retransmitting through a
  /// partition. Off: the held bytes go out in order (the partition healed). A connection that
  /// ends while black-holed loses what it held (counted in bytes_discarded()). Bytes are never
  /// dropped from the middle of a live stream: that would corrupt the WebSocket framing, which
  /// no real network does.
  void set_black_hole(bool on) {
    run([this, on] {
      black_hole_ = on;
      if (!on) {
        auto all = sessions_;
        for (const auto& s : all) s->resume();
      }
    });
  }
  /// Every connection (open or new) is reset (both sides) once it has relayed n more bytes,
  /// counted both ways from now (from its start for new ones); 0 = off.
  void close_after_bytes(std::uint64_t n) {
    run([this, n] {
      close_after_ = n;
      for (const auto& s : sessions_) s->budget = n;
    });
  }
  /// What happens to new connections.
  void set_accept_mode(accept_mode m) {
    run([this, m] { mode_ = m; });
  }
  /// Resets both sides of every open connection (SO_LINGER 0 + close). Returns how many.
  std::size_t reset_all() {
    return run([this] {
      const std::size_t n = sessions_.size();
      auto all = sessions_;
      for (const auto& s : all) s->shut(true);
      return n;
    });
  }
  /// Back to plain pass-through for new data and new connections.
  void heal() {
    run([this] {
      latency_ = std::chrono::milliseconds(0);
      black_hole_ = false;
      close_after_ = 0;
      for (const auto& s : sessions_) s->budget = 0;
      mode_ = accept_mode::forward;
    });
  }

  std::size_t accepted() const noexcept { return accepted_.load(); }
  std::size_t open_connections() const {
    return run([this] { return sessions_.size(); });
  }
  /// Bytes relayed client → server and server → client (written to the far side).
  std::uint64_t bytes_up() const noexcept { return up_.load(); }
  std::uint64_t bytes_down() const noexcept { return down_.load(); }
  /// Bytes read while the black hole was on (both ways).
  std::uint64_t bytes_held() const noexcept { return held_.load(); }
  /// Bytes read but never written because their connection ended first (both ways).
  std::uint64_t bytes_discarded() const noexcept { return discarded_.load(); }

 private:
  using tcp = asio::ip::tcp;
  using clock = std::chrono::steady_clock;

  struct session;
  using session_ptr = std::shared_ptr<session>;

  // One direction of a session: reads `from`, writes `to`.
  struct pipe {
    explicit pipe(asio::io_context& io) : timer(io) {}
    std::array<char, 16384> buf{};
    std::deque<std::pair<clock::time_point, std::string>> pending;
    bool writing = false;
    bool eof = false;
    asio::steady_timer timer;
  };

  struct session : std::enable_shared_from_this<session> {
    session(fault_proxy& p, tcp::socket c)
        : proxy(p),
          client(std::move(c)),
          server(p.io_),
          up(p.io_),
          down(p.io_),
          budget(p.close_after_) {}
    fault_proxy& proxy;
    tcp::socket client;
    tcp::socket server;
    pipe up;                   // client → server
    pipe down;                 // server → client
    std::uint64_t budget = 0;  // bytes still allowed before the reset; 0 = unlimited
    bool closed = false;

    void start() {
      auto self = shared_from_this();
      server.async_connect(proxy.target_, [self](const asio::error_code& ec) {
        if (self->closed) return;
        if (ec) return self->shut(true);
        asio::error_code ignored;
        self->server.set_option(tcp::no_delay(true), ignored);
        self->read(self->client, self->server, self->up, true);
        self->read(self->server, self->client, self->down, false);
      });
    }

    void read(tcp::socket& from, tcp::socket& to, pipe& p, bool is_up) {
      auto self = shared_from_this();
      from.async_read_some(asio::buffer(p.buf), [self, &from, &to, &p, is_up](
                                                    const asio::error_code& ec, std::size_t n) {
        if (self->closed) return;
        if (ec) {
          if (ec == asio::error::eof) {
            p.eof = true;
            self->flush(to, p, is_up);
            if (self->up.eof && self->down.eof) self->shut(false);
            return;
          }
          return self->shut(true);
        }
        if (self->proxy.black_hole_) self->proxy.held_ += n;
        p.pending.emplace_back(clock::now() + self->proxy.latency_, std::string(p.buf.data(), n));
        self->flush(to, p, is_up);
        self->read(from, to, p, is_up);
      });
    }

    // Writes the head of p.pending once it is due; at the end of stream, half-closes `to`.
    void flush(tcp::socket& to, pipe& p, bool is_up) {
      if (p.writing || closed || proxy.black_hole_) return;
      if (p.pending.empty()) {
        if (p.eof) {
          asio::error_code ignored;
          to.shutdown(tcp::socket::shutdown_send, ignored);
        }
        return;
      }
      auto self = shared_from_this();
      p.writing = true;
      const auto due = p.pending.front().first;
      if (due > clock::now()) {
        p.timer.expires_at(due);
        p.timer.async_wait([self, &to, &p, is_up](const asio::error_code& ec) {
          p.writing = false;
          if (ec || self->closed) return;
          self->flush(to, p, is_up);
        });
        return;
      }
      std::string& chunk = p.pending.front().second;
      std::size_t len = chunk.size();
      const bool limited = budget != 0;
      if (limited && len > budget) len = static_cast<std::size_t>(budget);
      asio::async_write(
          to, asio::buffer(chunk.data(), len),
          [self, &to, &p, is_up, len, limited](const asio::error_code& ec, std::size_t) {
            p.writing = false;
            if (self->closed) return;
            if (ec) return self->shut(true);
            (is_up ? self->proxy.up_ : self->proxy.down_) += len;
            if (limited && self->budget != 0) {
              self->budget -= std::min<std::uint64_t>(self->budget, len);
              if (self->budget == 0) return self->shut(true);
            }
            p.pending.pop_front();
            self->flush(to, p, is_up);
          });
    }

    // Writes what waited (after a black hole).
    void resume() {
      flush(server, up, true);
      flush(client, down, false);
    }

    // Ends both sides: reset = SO_LINGER 0 (RST), otherwise a plain close.
    void shut(bool reset) {
      if (closed) return;
      closed = true;
      for (pipe* p : {&up, &down})
        for (const auto& chunk : p->pending) proxy.discarded_ += chunk.second.size();
      asio::error_code ignored;
      for (tcp::socket* s : {&client, &server}) {
        if (!s->is_open()) continue;
        if (reset) s->set_option(asio::socket_base::linger(true, 0), ignored);
        s->close(ignored);
      }
      up.timer.cancel();
      down.timer.cancel();
      proxy.sessions_.erase(shared_from_this());
    }
  };

  void accept_next() {
    acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        ++accepted_;
        asio::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        if (mode_ == accept_mode::reset) {
          s.set_option(asio::socket_base::linger(true, 0), ignored);
          s.close(ignored);
        } else {
          auto sess = std::make_shared<session>(*this, std::move(s));
          sessions_.insert(sess);
          if (mode_ == accept_mode::forward) sess->start();
        }
      }
      accept_next();
    });
  }

  // Runs f on the io thread and waits for it. Never call from the io thread itself.
  template <class F>
  auto run(F&& f) const -> decltype(f()) {
    using result = decltype(f());
    std::packaged_task<result()> task(std::forward<F>(f));
    auto fut = task.get_future();
    asio::post(io_, [&task] { task(); });
    return fut.get();
  }

  // The io_context is declared first: destroyed last.
  mutable asio::io_context io_;
  tcp::endpoint target_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::promise<void> finished_;

  // io thread only
  std::set<session_ptr> sessions_;
  std::chrono::milliseconds latency_{0};
  bool black_hole_ = false;
  std::uint64_t close_after_ = 0;
  accept_mode mode_ = accept_mode::forward;

  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::uint64_t> up_{0};
  std::atomic<std::uint64_t> down_{0};
  std::atomic<std::uint64_t> held_{0};
  std::atomic<std::uint64_t> discarded_{0};
};

}  // namespace wspulse::test_support
