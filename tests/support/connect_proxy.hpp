// wspulse_client tests — a small HTTP CONNECT proxy on 127.0.0.1 (ephemeral port): opens a
// tunnel to the requested loopback target (an IP literal or localhost) and relays both ways; or asks for Basic credentials
// (407), refuses with a chosen status, or reads the request and never answers. Records every
// request it read. Runs on its own io thread; every call is thread-safe.
// SPDX-License-Identifier: MIT
#pragma once

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace wspulse::test_support {

class connect_proxy {
 public:
  connect_proxy()
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        work_(asio::make_work_guard(io_)) {
    port_ = acceptor_.local_endpoint().port();
    accept_next();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~connect_proxy() {
    asio::post(io_, [this] {
      asio::error_code ec;
      acceptor_.close(ec);
      for (const auto& s : sessions_) s->shut();
      sessions_.clear();
      work_.reset();
    });
    thread_.join();
  }

  connect_proxy(const connect_proxy&) = delete;
  connect_proxy& operator=(const connect_proxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Tunnels only for requests whose Proxy-Authorization equals `value` (e.g. "Basic …");
  /// others get 407. Empty: no authentication.
  void require_authorization(std::string value) {
    std::lock_guard<std::mutex> lock(mu_);
    required_auth_ = std::move(value);
  }
  /// Answers every CONNECT with this status (and no tunnel); 0 = tunnel normally.
  void refuse_with(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_status_ = status;
  }
  /// Reads each request and never answers it.
  void go_silent() {
    std::lock_guard<std::mutex> lock(mu_);
    silent_ = true;
  }
  /// Every request header block read so far, as received.
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  /// Tunnels opened so far.
  std::size_t tunnels() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tunnels_;
  }

 private:
  using tcp = asio::ip::tcp;

  struct session : std::enable_shared_from_this<session> {
    explicit session(asio::io_context& io) : client(io), upstream(io) {}
    tcp::socket client;
    tcp::socket upstream;
    asio::streambuf head{16 * 1024};
    std::string answer;
    std::array<char, 16 * 1024> up_buf{}, down_buf{};
    void shut() {
      asio::error_code ec;
      client.close(ec);
      upstream.close(ec);
    }
  };
  using session_ptr = std::shared_ptr<session>;

  void accept_next() {
    auto s = std::make_shared<session>(io_);
    acceptor_.async_accept(s->client, [this, s](const asio::error_code& ec) {
      if (ec) return;  // closed
      sessions_.insert(s);
      read_request(s);
      accept_next();
    });
  }

  void read_request(const session_ptr& s) {
    asio::async_read_until(s->client, s->head, "\r\n\r\n",
                           [this, s](const asio::error_code& ec, std::size_t n) {
                             if (ec) return end(s);
                             handle_request(s, n);
                           });
  }

  static std::string header_value(const std::string& head, const std::string& name) {
    const std::string key = "\r\n" + name + ": ";
    const auto at = head.find(key);
    if (at == std::string::npos) return {};
    const auto end = head.find("\r\n", at + key.size());
    return head.substr(at + key.size(), end - at - key.size());
  }

  void handle_request(const session_ptr& s, std::size_t n) {
    const std::string head(static_cast<const char*>(s->head.data().data()), n);
    s->head.consume(n);
    std::string required;
    int refuse = 0;
    bool silent = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(head);
      required = required_auth_;
      refuse = refuse_status_;
      silent = silent_;
    }
    if (silent) return;  // the session stays open, unanswered, until the peer goes
    const auto sp1 = head.find(' ');
    const auto sp2 = head.find(' ', sp1 + 1);
    const std::string method = head.substr(0, sp1);
    const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto colon = target.rfind(':');
    if (method != "CONNECT" || colon == std::string::npos)
      return reply_and_end(s, 400, "Bad Request");
    if (refuse != 0) return reply_and_end(s, refuse, "Refused");
    if (!required.empty() && header_value(head, "Proxy-Authorization") != required)
      return reply_and_end(s, 407, "Proxy Authentication Required");
    asio::error_code ec;
    const std::string host = target.substr(0, colon);
    const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec || !address.is_loopback()) return reply_and_end(s, 403, "Forbidden");
    const tcp::endpoint to(address,
                           static_cast<std::uint16_t>(std::stoul(target.substr(colon + 1))));
    s->upstream.async_connect(to, [this, s](const asio::error_code& cec) {
      if (cec) return reply_and_end(s, 502, "Bad Gateway");
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++tunnels_;
      }
      s->answer = "HTTP/1.1 200 Connection established\r\n\r\n";
      asio::async_write(s->client, asio::buffer(s->answer),
                        [this, s](const asio::error_code& wec, std::size_t) {
                          if (wec) return end(s);
                          relay(s, s->client, s->upstream, s->up_buf);
                          relay(s, s->upstream, s->client, s->down_buf);
                        });
    });
  }

  void reply_and_end(const session_ptr& s, int status, const char* text) {
    s->answer = "HTTP/1.1 " + std::to_string(status) + " " + text + "\r\n";
    if (status == 407) s->answer += "Proxy-Authenticate: Basic realm=\"test\"\r\n";
    s->answer += "Content-Length: 0\r\nConnection: close\r\n\r\n";
    asio::async_write(s->client, asio::buffer(s->answer),
                      [this, s](const asio::error_code&, std::size_t) { end(s); });
  }

  void relay(const session_ptr& s, tcp::socket& from, tcp::socket& to,
             std::array<char, 16 * 1024>& buf) {
    from.async_read_some(
        asio::buffer(buf), [this, s, &from, &to, &buf](const asio::error_code& ec, std::size_t n) {
          if (ec) return end(s);
          asio::async_write(to, asio::buffer(buf.data(), n),
                            [this, s, &from, &to, &buf](const asio::error_code& wec, std::size_t) {
                              if (wec) return end(s);
                              relay(s, from, to, buf);
                            });
        });
  }

  void end(const session_ptr& s) {
    s->shut();
    sessions_.erase(s);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::set<session_ptr> sessions_;  // io thread only

  mutable std::mutex mu_;
  std::string required_auth_;
  int refuse_status_ = 0;
  bool silent_ = false;
  std::vector<std::string> requests_;
  std::size_t tunnels_ = 0;
};

}  // namespace wspulse::test_support
