// wspulse_client — the websocketpp client configuration the client runs on.
// websocketpp offers no per-write completion callback and no write timeout. Its connection
// calls `transport_con_type::async_write` / `async_read_at_least`, so a transport connection
// derived from Asio's that hides both sees every write start and finish and every read. That
// gives write deadlines, "this frame reached the OS", and liveness, without polling.
// SPDX-License-Identifier: MIT
#pragma once

#include "../error.hpp"
#include "asio_check.hpp"
#include "host_lookup.hpp"
#include "proxy_url.hpp"

#include <websocketpp/client.hpp>
#include <websocketpp/common/network.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/logger/stub.hpp>
#include <websocketpp/transport/asio/endpoint.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#if defined(__linux__)
#include <sys/random.h>  // getrandom
#endif

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace wspulse {
namespace detail {

/// What the client learns from its transport. Called on the I/O thread only.
class transport_observer {
 public:
  /// A write of `data_frames` text/binary messages (and maybe a close frame) starts.
  virtual void on_write_start(std::uint64_t transport, std::size_t data_frames,
                              bool close_frame) = 0;
  /// That write completed (ok) or failed.
  virtual void on_write_done(std::uint64_t transport, std::size_t data_frames, bool ok) = 0;
  /// Bytes arrived (any frame, or part of one).
  virtual void on_bytes_read(std::uint64_t transport) = 0;
  /// websocketpp has handled those bytes (every whole message in them was delivered).
  virtual void on_read_processed(std::uint64_t transport) = 0;
  /// A websocketpp handler of this transport threw: the observer must terminate it.
  virtual void on_handler_threw(std::uint64_t transport, const std::string& what) = 0;

 protected:
  ~transport_observer() = default;
};

// First byte of a frame header: FIN + opcode (client frames are never fragmented here).
inline bool is_data_opcode(unsigned char b) noexcept {
  const unsigned op = b & 0x0Fu;
  return op == 0x1 || op == 0x2;
}
inline bool is_close_opcode(unsigned char b) noexcept { return (b & 0x0Fu) == 0x8; }
inline bool is_pong_opcode(unsigned char b) noexcept { return (b & 0x0Fu) == 0xA; }

/// The inbound limit behind max_message_size(0) ("no limit"): websocketpp reserves a message's
/// declared length up front, so a header declaring 2^63 bytes would throw instead of failing
/// cleanly. Above this a message is refused as message_too_big (close 1009) whatever the limit.
inline constexpr std::size_t no_limit_message_ceiling = std::size_t{1} << 30;

// websocketpp's _htonll initialises a plain static on first use: two I/O threads touching it
// first at once race. Running it once under a magic static, before any I/O thread starts,
// makes every later use a read that happens after the write.
inline void prime_websocketpp_statics() {
  static const bool primed = (websocketpp::lib::net::_htonll(0), true);
  (void)primed;
}

template <class config>
class observed_endpoint;

template <class config>
class observed_connection : public websocketpp::transport::asio::connection<config> {
  using base = websocketpp::transport::asio::connection<config>;

 public:
  using type = observed_connection<config>;
  using ptr = websocketpp::lib::shared_ptr<type>;
  using write_handler = websocketpp::transport::write_handler;
  using read_handler = websocketpp::transport::read_handler;

  observed_connection(bool is_server,
                      const websocketpp::lib::shared_ptr<typename config::alog_type>& alog,
                      const websocketpp::lib::shared_ptr<typename config::elog_type>& elog)
      : base(is_server, alog, elog) {}

  void observe(transport_observer* observer, std::uint64_t transport) noexcept {
    observer_ = observer;
    transport_ = transport;
  }

  /// Where this connection's host name is looked up: the dialing client's (set per dial).
  void set_lookup(host_lookup<observed_endpoint<config>>* lookup) noexcept { lookup_ = lookup; }
  host_lookup<observed_endpoint<config>>* lookup() const noexcept { return lookup_; }

  // ---- HTTP CONNECT proxy (issue 9 §4) ----
  /// Dial through this proxy (the endpoint connects TCP to it and opens the tunnel).
  void set_tunnel(const proxy_settings& proxy) { tunnel_ = proxy; }
  const proxy_settings* tunnel() const noexcept { return tunnel_ ? &*tunnel_ : nullptr; }
  /// Why the tunnel could not be opened (the reason of the failed dial); empty when it was.
  const std::optional<reason>& tunnel_refusal() const noexcept { return tunnel_refusal_; }

  /// Records why the tunnel failed and returns the error to end the dial with.
  std::error_code tunnel_failed(std::string what, std::error_code ec, int status = 0) {
    reason why(status != 0 ? errc::handshake_rejected : errc::connection_lost);
    why.http_status = status;
    why.detail = "proxy " + tunnel_->display + ": " + what;
    tunnel_refusal_ = std::move(why);
    return ec;
  }

  /// Writes CONNECT authority, reads the proxy's answer (bounded), then calls done: {} once the
  /// tunnel is open (2xx), an error otherwise (see tunnel_refusal()).
  void open_tunnel(const std::string& authority, websocketpp::transport::connect_handler done) {
    tunnel_io_ = std::make_shared<tunnel_io>();
    tunnel_io_->request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (!tunnel_->authorization.empty())
      tunnel_io_->request += "Proxy-Authorization: " + tunnel_->authorization + "\r\n";
    tunnel_io_->request += "\r\n";
    asio::async_write(
        this->get_next_layer(), asio::buffer(tunnel_io_->request),
        [this, self = this->get_shared(), done](const std::error_code& ec, std::size_t) {
          if (ec) return done(tunnel_failed("cannot send CONNECT: " + ec.message(), ec));
          asio::async_read_until(
              this->get_next_layer(), tunnel_io_->reply, "\r\n\r\n",
              [this, self, done](const std::error_code& read_ec, std::size_t header_bytes) {
                done(tunnel_answered(read_ec, header_bytes));
              });
        });
  }

  /// How answer_ping() writes a pong (the websocketpp connection derived from this one).
  void set_pong_sender(std::function<void(const std::string&)> send) {
    send_pong_ = std::move(send);
  }

  // RFC 6455 § 5.5.3 lets an endpoint answer only the most recent of several pings. At most one
  // pong is queued or being written; pings arriving meanwhile leave only their latest payload,
  // answered when that pong is written. A server flooding pings while not reading would
  // otherwise make websocketpp queue one pong per ping without bound.
  void answer_ping(std::string payload) {
    if (pong_outstanding_) {
      latest_ping_ = std::move(payload);
      ping_unanswered_ = true;
      return;
    }
    pong_outstanding_ = true;
    send_pong_(payload);
  }

  // The opening handshake: one plain buffer.
  void async_write(const char* buf, std::size_t len, write_handler handler) {
    base::async_write(buf, len, std::move(handler));
  }

  // Frames: websocketpp pushes a header buffer and a payload buffer per message.
  void async_write(const std::vector<websocketpp::transport::buffer>& bufs, write_handler handler) {
    if (observer_ == nullptr) return base::async_write(bufs, std::move(handler));
    std::size_t data = 0;
    bool close = false;
    bool pong = false;
    for (std::size_t i = 0; i < bufs.size(); i += 2) {
      if (bufs[i].len == 0) continue;
      const auto first = static_cast<unsigned char>(bufs[i].buf[0]);
      data += is_data_opcode(first) ? 1 : 0;
      close = close || is_close_opcode(first);
      pong = pong || is_pong_opcode(first);
    }
    observer_->on_write_start(transport_, data, close);
    base::async_write(bufs, [this, self = this->get_shared(), data, pong,
                             handler = std::move(handler)](const std::error_code& ec) {
      if (observer_ != nullptr) observer_->on_write_done(transport_, data, !ec);
      if (pong && !ec) pong_written();  // queues the next pong; the handler then writes it
      run_guarded(handler, ec);
    });
  }

  // websocketpp 0.8.2's resume_reading() starts a read even when one issued before
  // pause_reading() is still pending: two reads into one buffer corrupt the stream. The client
  // pauses only from inside the read loop (no read pending then), but a pending read continues
  // the frame loop itself when it completes, so dropping a second request is always safe.
  void async_read_at_least(std::size_t num_bytes, char* buf, std::size_t len,
                           read_handler handler) {
    if (read_pending_) return;
    read_pending_ = true;
    base::async_read_at_least(num_bytes, buf, len,
                              [this, self = this->get_shared(), handler = std::move(handler)](
                                  const std::error_code& ec, std::size_t n) {
                                read_pending_ = false;
                                if (n > 0 && observer_ != nullptr)
                                  observer_->on_bytes_read(transport_);
                                run_guarded(handler, ec, n);
                                if (observer_ != nullptr) observer_->on_read_processed(transport_);
                              });
  }

 private:
  struct tunnel_io {
    std::string request;
    asio::streambuf reply{16 * 1024};  // a proxy's answer header larger than this is refused
  };

  std::error_code tunnel_answered(const std::error_code& ec, std::size_t header_bytes) {
    const auto failed = websocketpp::transport::asio::error::make_error_code(
        websocketpp::transport::asio::error::proxy_failed);
    if (ec == asio::error::operation_aborted) return ec;  // abandoned (handshake_timeout)
    if (ec == asio::error::not_found) return tunnel_failed("answer header too large", failed);
    if (ec) return tunnel_failed("no answer to CONNECT: " + ec.message(), ec);
    const char* data = static_cast<const char*>(tunnel_io_->reply.data().data());
    const std::string head(data, header_bytes);
    const bool extra = tunnel_io_->reply.size() > header_bytes;
    tunnel_io_.reset();
    // "HTTP/1.x SSS text"
    const std::string line = head.substr(0, head.find("\r\n"));
    const std::size_t sp = line.find(' ');
    int status = 0;
    if (line.compare(0, 7, "HTTP/1.") == 0 && sp != std::string::npos && sp + 4 <= line.size() &&
        (sp + 4 == line.size() || line[sp + 4] == ' ')) {
      for (std::size_t i = sp + 1; i < sp + 4; ++i)
        status = line[i] >= '0' && line[i] <= '9' ? status * 10 + (line[i] - '0') : -1000;
    }
    if (status < 100) return tunnel_failed("malformed answer to CONNECT", failed);
    if (status / 100 != 2)
      return tunnel_failed("refused the tunnel: " + line.substr(sp + 1), failed, status);
    if (extra) return tunnel_failed("sent data before the tunnel opened", failed);
    return {};
  }

  void pong_written() {
    pong_outstanding_ = false;
    if (!ping_unanswered_) return;
    ping_unanswered_ = false;
    answer_ping(std::move(latest_ping_));
  }

  // websocketpp's read and write handlers run the frame parser and the user's message handler.
  // One that throws (e.g. std::length_error, bad_alloc) would unwind through io_context::run()
  // and leave this connection's read loop dead, unable to end: the observer is told instead,
  // and terminates the connection at once.
  template <class Handler, class... Args>
  void run_guarded(const Handler& handler, const Args&... args) {
    std::string what;
    try {
      handler(args...);
      return;
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
      what = "unknown exception";
    }
    if (observer_ != nullptr) observer_->on_handler_threw(transport_, what);
  }

  transport_observer* observer_ = nullptr;
  std::uint64_t transport_ = 0;
  host_lookup<observed_endpoint<config>>* lookup_ = nullptr;
  bool read_pending_ = false;
  std::function<void(const std::string&)> send_pong_;
  bool pong_outstanding_ = false;
  bool ping_unanswered_ = false;
  std::string latest_ping_;
  std::optional<proxy_settings> tunnel_;
  std::optional<reason> tunnel_refusal_;
  std::shared_ptr<tunnel_io> tunnel_io_;  // the CONNECT exchange, while it runs
};

/// Makes `con` answer pings through observed_connection::answer_ping (latest ping only).
template <class Connection>
void answer_latest_ping_only(Connection& con) {
  con.set_pong_sender([&con](const std::string& payload) {
    std::error_code ignored;  // fails only when the connection is already closing
    con.pong(payload, ignored);
  });
  con.set_ping_handler([&con](websocketpp::connection_hdl, std::string payload) {
    con.answer_ping(std::move(payload));
    return false;  // answered here, not by websocketpp
  });
}

/// Why the server's close frame was malformed, or empty when it was well-formed (or none came).
/// websocketpp answers a malformed close (1-byte payload, a code that may not be sent, a reason
/// that is not UTF-8) with its own 1002 and reason; a valid close it echoes, code and reason.
template <class Connection>
std::string malformed_server_close(const Connection& con) {
  namespace status = websocketpp::close::status;
  const status::value remote = con.get_remote_close_code();
  if (con.get_local_close_code() != status::protocol_error ||
      con.get_local_close_reason() == con.get_remote_close_reason())
    return std::string();
  if (!websocketpp::utf8_validator::validate(con.get_remote_close_reason()))
    return "malformed close frame from the server: its reason is not valid UTF-8";
  if (remote == status::protocol_error)  // what websocketpp records for a 1-byte payload
    return "malformed close frame from the server: a 1-byte payload has no room for a code";
  return "malformed close frame from the server: close code " + std::to_string(remote) +
         " may not be sent";
}

template <class config>
class observed_endpoint : public websocketpp::transport::asio::endpoint<config> {
  using base = websocketpp::transport::asio::endpoint<config>;

 public:
  using transport_con_type = observed_connection<config>;
  using transport_con_ptr = typename transport_con_type::ptr;
  using lookup_type = host_lookup<observed_endpoint>;

  // websocketpp's own resolve and connect steps arm timers that an aborted connect leaves
  // armed (330 s here): an abandoned dial would keep the application's io_context busy. These
  // arm none; the client bounds the dial (handshake_timeout) and cancels the socket.
  void async_connect(transport_con_ptr tcon, websocketpp::uri_ptr u,
                     websocketpp::transport::connect_handler cb) {
    tcon->set_uri(u);
    std::string host = u->get_host();
    std::string port = u->get_port_str();
    if (const proxy_settings* proxy = tcon->tunnel()) {  // HTTP proxy (issue 9 §4)
      // TCP goes to the proxy (its name looked up like any other, below); once connected, the
      // tunnel opens before websocketpp starts (TLS and the upgrade then run inside it).
      host = proxy->host;
      port = proxy->port;
      cb = [tcon, authority = u->get_authority(), cb = std::move(cb)](const std::error_code& ec) {
        if (ec) return cb(tcon->tunnel_failed(ec.message(), ec));
        tcon->open_tunnel(authority, cb);
      };
    }
    const bool bracketed = host.size() > 1 && host.front() == '[';
    if (bracketed) host = host.substr(1, host.size() - 2);
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {  // an IP literal needs no lookup
      return resolved(
          std::move(tcon), std::move(cb), std::error_code(),
          asio::ip::tcp::resolver::results_type::create(
              asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(std::stoul(port))), host,
              port));
    }
    lookup_type* lookup = tcon->lookup();
    if (lookup == nullptr) return cb(asio::error::host_not_found);  // set by every dial
    lookup->start(*this, std::move(tcon), std::move(cb), std::move(host), std::move(port));
  }

  /// A lookup's outcome (host_lookup, on the I/O thread): connect to the first address that
  /// accepts. An abandoned connect (its socket cancelled) calls nothing.
  void resolved(transport_con_ptr tcon, websocketpp::transport::connect_handler cb,
                const std::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
    if (ec) return cb(ec);
    auto& socket = tcon->get_raw_socket();
    asio::async_connect(socket, results,
                        [tcon = std::move(tcon), cb = std::move(cb)](
                            const std::error_code& connect_ec, const asio::ip::tcp::endpoint&) {
                          if (connect_ec == asio::error::operation_aborted) return;
                          cb(connect_ec);
                        });
  }
};

/// Masking keys (RFC 6455 § 5.3: unpredictable, from a strong entropy source) drawn from the
/// OS in blocks of 64. websocketpp's default asks std::random_device once per frame, which
/// costs 1-25 µs depending on the machine (0.9 µs measured by bench/micro/send_path.cpp, 10-25
/// µs on a loaded VM, where it capped a client at ~35k frames/s). One per io_context
/// (shared_endpoint), used on its one I/O thread.
class masking_key_source {
 public:
  using int_type = std::uint32_t;
  int_type operator()() {
    if (next_ == keys_.size()) refill();
    return keys_[next_++];
  }

 private:
  void refill() {
#if defined(__linux__)
    auto* out = reinterpret_cast<unsigned char*>(keys_.data());
    std::size_t filled = 0;
    while (filled < sizeof(keys_)) {
      const ssize_t n = ::getrandom(out + filled, sizeof(keys_) - filled, 0);
      if (n > 0)
        filled += static_cast<std::size_t>(n);
      else if (errno != EINTR)
        break;
    }
    if (filled == sizeof(keys_)) {
      next_ = 0;
      return;
    }
#endif
    std::random_device device;  // portable fallback
    for (auto& k : keys_) k = device();
    next_ = 0;
  }

  std::array<int_type, 64> keys_{};
  std::size_t next_ = keys_.size();
};

/// Client configuration over a websocketpp socket policy (plain TCP or TLS): single-threaded
/// I/O (no strands, no locks), silent websocketpp logs, timeouts enforced by the client itself.
template <class SocketEndpoint>
struct observed_client_config : websocketpp::config::core_client {
  using type = observed_client_config<SocketEndpoint>;
  using base = websocketpp::config::core_client;

  using concurrency_type = websocketpp::concurrency::none;
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  using request_type = base::request_type;
  using response_type = base::response_type;
  using message_type = base::message_type;
  using con_msg_manager_type = base::con_msg_manager_type;
  using endpoint_msg_manager_type = base::endpoint_msg_manager_type;
  using rng_type = masking_key_source;

  static const bool enable_multithreading = false;
  // The client arms its own handshake and write deadlines; websocketpp's stay out of the way.
  // The close handshake's is set per connection to write_wait (set_close_handshake_timeout).
  static const long timeout_open_handshake = 0;
  static const long timeout_close_handshake = 0;
  static const long timeout_pong = 0;

  struct transport_config : base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = SocketEndpoint;
    static const bool enable_multithreading = false;
    // The client enforces handshake_timeout over the whole dial, and an abandoned dial must
    // leave nothing armed on the io_context: 0 turns websocketpp's post-init (TLS handshake)
    // timer off; the lookup and connect are observed_endpoint's own, without timers; pre-init
    // and proxy timers are never armed.
    static const long timeout_socket_pre_init = 0;
    static const long timeout_proxy = 0;
    static const long timeout_socket_post_init = 0;
    static const long timeout_dns_resolve = 0;
    static const long timeout_connect = 0;
    static const long timeout_socket_shutdown = 5000;
  };

  using transport_type = observed_endpoint<transport_config>;
};

using plain_client_config =
    observed_client_config<websocketpp::transport::asio::basic_socket::endpoint>;
using plain_endpoint = websocketpp::client<plain_client_config>;

}  // namespace detail
}  // namespace wspulse
