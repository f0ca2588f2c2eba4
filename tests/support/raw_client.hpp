// wspulse_client tests — a raw WebSocket peer (websocketpp asio_client on its own io thread)
// that records everything it sees: messages, pings, pongs, the close code and reason, the HTTP
// status of a refused upgrade. Every member is thread-safe; waits take a deadline.
// SPDX-License-Identifier: MIT
#pragma once

#include "wspulse/detail/asio_check.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>
#include <websocketpp/logger/stub.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace wspulse::test_support {

struct raw_client_config : websocketpp::config::asio_client {
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  struct transport_config : websocketpp::config::asio_client::transport_config {
    using alog_type = websocketpp::log::stub;
    using elog_type = websocketpp::log::stub;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};

/// One WebSocket connection at a time, driven from the test thread.
class raw_client {
 public:
  using header_list = std::vector<std::pair<std::string, std::string>>;
  using ms = std::chrono::milliseconds;

  /// How the connection ended (valid once closed() is true).
  struct close_info {
    int remote_code = 0;  ///< code of the close frame received; 1006 when none was received
    std::string remote_reason;
    int local_code = 0;  ///< code this side sent (1006 when it closed without a frame)
    std::error_code ec;  ///< websocketpp's reason for a non-clean end
  };

  raw_client() : work_(asio::make_work_guard(io_)) {
    client_.clear_access_channels(websocketpp::log::alevel::all);
    client_.clear_error_channels(websocketpp::log::elevel::all);
    client_.init_asio(&io_);
    client_.set_user_agent("wspulse-raw-client");
    // No Nagle delay (like Go and most clients): small frames go out at once.
    client_.set_tcp_pre_init_handler([this](websocketpp::connection_hdl h) {
      std::error_code ec;
      if (auto con = client_.get_con_from_hdl(h, ec); !ec) {
        asio::error_code ignored;
        con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
      }
    });
    thread_ = std::thread([this] {
      io_.run();
      done_.set_value();
    });
  }

  /// Ends the connection without a close frame if it is still up (call close() and
  /// wait_closed() first for a clean close), then joins the io thread.
  ~raw_client() {
    run_on_io([this] { hard_close(); });
    work_.reset();
    if (done_.get_future().wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      io_.stop();
    }
    thread_.join();
  }

  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  /// Opens a connection (the previous one, if any, is aborted and its record cleared).
  /// @return true once open; false when refused (see http_status()), failed or timed out.
  bool connect(const std::string& url, const header_list& headers = {}, ms timeout = ms(3000)) {
    run_on_io([&] {
      hard_close();
      unsigned gen = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        gen = st_.gen + 1;
        st_ = state{};
        st_.gen = gen;  // events of an earlier connection carry another gen and are ignored
      }
      std::error_code ec;
      connection_ptr con = client_.get_connection(url, ec);
      if (ec) {
        update(gen, [&](state& s) {
          s.failed = true;
          s.error = ec;
        });
        return;
      }
      for (const auto& h : headers) con->append_header(h.first, h.second);
      // Handlers live in the connection: a raw pointer to it avoids a reference cycle.
      con->set_open_handler([this, gen](websocketpp::connection_hdl) {
        update(gen, [](state& s) { s.open = true; });
      });
      con->set_fail_handler([this, gen, c = con.get()](websocketpp::connection_hdl) {
        const int status = static_cast<int>(c->get_response_code());
        const std::error_code error = c->get_ec();
        update(gen, [&](state& s) {
          s.failed = true;
          s.http_status = status;
          s.error = error;
        });
      });
      con->set_close_handler([this, gen, c = con.get()](websocketpp::connection_hdl) {
        close_info info;
        info.remote_code = static_cast<int>(c->get_remote_close_code());
        info.remote_reason = c->get_remote_close_reason();
        info.local_code = static_cast<int>(c->get_local_close_code());
        info.ec = c->get_ec();
        update(gen, [&](state& s) {
          s.open = false;
          s.closed = true;
          s.close = std::move(info);
        });
      });
      con->set_message_handler([this, gen](websocketpp::connection_hdl, message_ptr msg) {
        std::string payload = msg->get_payload();
        update(gen, [&](state& s) { s.messages.push_back(std::move(payload)); });
      });
      con->set_ping_handler([this, gen](websocketpp::connection_hdl, std::string) {
        update(gen, [](state& s) { ++s.pings; });
        return answer_pings_.load();
      });
      con->set_pong_handler([this, gen](websocketpp::connection_hdl, std::string) {
        update(gen, [](state& s) { ++s.pongs; });
      });
      client_.connect(con);
      con_ = con;
    });
    const bool settled =
        wait([](const state& s) { return s.open || s.failed || s.closed; }, timeout);
    if (!settled) {
      run_on_io([this] { hard_close(); });
      std::lock_guard<std::mutex> lock(mu_);
      st_.failed = true;
      st_.error = std::make_error_code(std::errc::timed_out);
      return false;
    }
    std::lock_guard<std::mutex> lock(mu_);
    return st_.open;
  }

  bool is_open() const {
    return get([](const state& s) { return s.open; });
  }
  /// HTTP status of a refused upgrade (0 when there was no HTTP response).
  int http_status() const {
    return get([](const state& s) { return s.http_status; });
  }
  /// Why connect() failed.
  std::error_code error() const {
    return get([](const state& s) { return s.error; });
  }

  /// Sends one text frame; false when the connection is not open.
  bool send(std::string_view text) { return send_op(text, websocketpp::frame::opcode::text); }
  bool send_binary(std::string_view bytes) {
    return send_op(bytes, websocketpp::frame::opcode::binary);
  }
  /// Sends a ping; answered pings show up in pongs().
  bool ping(std::string_view payload = {}) {
    return run_on_io([&] {
      std::error_code ec;
      if (con_) con_->ping(std::string(payload), ec);
      return con_ && !ec;
    });
  }
  /// Starts the closing handshake; wait_closed() waits for its end.
  void close(std::uint16_t code = 1000, std::string_view reason = {}) {
    run_on_io([&] {
      std::error_code ec;
      if (con_)
        con_->close(static_cast<websocketpp::close::status::value>(code), std::string(reason), ec);
    });
  }
  /// Ends the TCP connection at once, without a close frame.
  void abort() {
    run_on_io([this] { hard_close(); });
  }
  /// false: server pings get no pong (the peer looks dead to the server's heartbeat).
  void set_answer_pings(bool answer) { answer_pings_ = answer; }
  /// Bytes queued in websocketpp and not yet taken for writing.
  std::size_t buffered_amount() {
    return run_on_io([this] { return con_ ? con_->get_buffered_amount() : std::size_t{0}; });
  }

  std::vector<std::string> messages() const {
    return get([](const state& s) { return s.messages; });
  }
  std::size_t message_count() const {
    return get([](const state& s) { return s.messages.size(); });
  }
  std::size_t pings() const {
    return get([](const state& s) { return s.pings; });
  }
  std::size_t pongs() const {
    return get([](const state& s) { return s.pongs; });
  }
  bool closed() const {
    return get([](const state& s) { return s.closed; });
  }
  close_info close_result() const {
    return get([](const state& s) { return s.close; });
  }

  bool wait_messages(std::size_t n, ms timeout = ms(3000)) {
    return wait([n](const state& s) { return s.messages.size() >= n; }, timeout);
  }
  bool wait_pings(std::size_t n, ms timeout = ms(3000)) {
    return wait([n](const state& s) { return s.pings >= n; }, timeout);
  }
  bool wait_pongs(std::size_t n, ms timeout = ms(3000)) {
    return wait([n](const state& s) { return s.pongs >= n; }, timeout);
  }
  bool wait_closed(ms timeout = ms(3000)) {
    return wait([](const state& s) { return s.closed; }, timeout);
  }

 private:
  using endpoint_type = websocketpp::client<raw_client_config>;
  using connection_ptr = endpoint_type::connection_ptr;
  using message_ptr = endpoint_type::message_ptr;

  struct state {
    unsigned gen = 0;
    bool open = false, failed = false, closed = false;
    int http_status = 0;
    std::error_code error;
    close_info close;
    std::vector<std::string> messages;
    std::size_t pings = 0, pongs = 0;
  };

  template <typename F>
  auto run_on_io(F&& f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::forward<F>(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  template <typename F>
  void update(unsigned gen, F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (st_.gen != gen) return;
    f(st_);
    cv_.notify_all();
  }

  template <typename F>
  auto get(F&& f) const -> decltype(f(std::declval<const state&>())) {
    std::lock_guard<std::mutex> lock(mu_);
    return f(st_);
  }

  template <typename Pred>
  bool wait(Pred pred, ms timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(st_); });
  }

  bool send_op(std::string_view data, websocketpp::frame::opcode::value op) {
    return run_on_io([&] {
      if (!con_ || con_->get_state() != websocketpp::session::state::open) return false;
      return !con_->send(data.data(), data.size(), op);
    });
  }

  // io thread: close the socket under websocketpp, which then reports the close.
  void hard_close() {
    if (!con_) return;
    if (con_->get_state() != websocketpp::session::state::closed) {
      asio::error_code ec;
      con_->get_raw_socket().close(ec);
      con_->terminate(std::error_code());
    }
    con_.reset();
  }

  asio::io_context io_;  // first: outlives the endpoint and every connection
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  endpoint_type client_;
  connection_ptr con_;  // io thread only
  std::thread thread_;
  std::promise<void> done_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  state st_;
  std::atomic<bool> answer_pings_{true};
};

}  // namespace wspulse::test_support
