// wspulse_client — the wspulse test server's implementation (testserver/wspulse_testserver.hpp).
// SPDX-License-Identifier: MIT
#include "wspulse_testserver.hpp"

#include "wspulse/detail/asio_check.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/logger/stub.hpp>
#include <websocketpp/server.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>  // std::remove_if
#include <chrono>
#include <cstdio>   // std::fprintf for errors escaping the io thread
#include <cstdlib>  // std::getenv for WSPULSE_TESTSERVER_CLOSE
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace wspulse::testing {
namespace detail {

// websocketpp's pause_reading() only stops the *next* read: a read already waiting on the
// socket stays, and resume_reading() then starts a second read on the same socket and buffer.
// This transport connection keeps at most one read in flight; the dropped request is served by
// the pending read, whose completion starts the next one.
template <typename Cfg>
class single_read_connection : public websocketpp::transport::asio::connection<Cfg> {
  using base = websocketpp::transport::asio::connection<Cfg>;

 public:
  using type = single_read_connection<Cfg>;
  using ptr = websocketpp::lib::shared_ptr<type>;
  using base::base;

  void async_read_at_least(std::size_t num_bytes, char* buf, std::size_t len,
                           websocketpp::transport::read_handler handler) {
    if (read_pending_) return;
    read_pending_ = true;
    // `this` stays alive: the base binds the read to a shared_ptr of this connection.
    base::async_read_at_least(num_bytes, buf, len,
                              [this, handler = std::move(handler)](
                                  const websocketpp::lib::error_code& ec, std::size_t n) {
                                read_pending_ = false;
                                handler(ec, n);
                              });
  }

  // Writes: websocketpp has no write-completion callback. The server needs one to keep one
  // data frame in flight (the send buffer) and to close TCP right after the close frame.
  void async_write(const char* buf, std::size_t len, websocketpp::transport::write_handler h) {
    write_pending_ = true;
    base::async_write(buf, len, wrap_write(std::move(h)));
  }
  void async_write(const std::vector<websocketpp::transport::buffer>& bufs,
                   websocketpp::transport::write_handler h) {
    write_pending_ = true;
    base::async_write(bufs, wrap_write(std::move(h)));
  }
  bool write_pending() const noexcept { return write_pending_; }
  /// Runs (on the io thread) after every completed write, once websocketpp has handled it.
  void set_after_write(std::function<void()> f) { after_write_ = std::move(f); }

 private:
  websocketpp::transport::write_handler wrap_write(websocketpp::transport::write_handler h) {
    return [this, h = std::move(h)](const websocketpp::lib::error_code& ec) {
      write_pending_ = false;
      h(ec);  // may start the next write
      if (after_write_) after_write_();
    };
  }

  bool read_pending_ = false;
  bool write_pending_ = false;
  std::function<void()> after_write_;
};

template <typename Cfg>
class single_read_transport : public websocketpp::transport::asio::endpoint<Cfg> {
 public:
  using transport_con_type = single_read_connection<Cfg>;
  using transport_con_ptr = typename transport_con_type::ptr;
};

struct server_config : websocketpp::config::asio {
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  struct transport_config : websocketpp::config::asio::transport_config {
    using alog_type = websocketpp::log::stub;
    using elog_type = websocketpp::log::stub;
  };
  using transport_type = single_read_transport<transport_config>;
};

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as in an HTML form query ('+' is a space); a malformed escape stays as is.
inline std::string url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

using query_map = std::map<std::string, std::string>;

// First occurrence of a key wins (like Go's url.Values.Get).
inline query_map parse_query(std::string_view query) {
  query_map out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    std::string key = url_decode(part.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? std::string{} : url_decode(part.substr(eq + 1));
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

// Splits "/path?query" into its two parts.
inline std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

inline const std::string* find_param(const query_map& q, const std::string& key) {
  const auto it = q.find(key);
  return it == q.end() ? nullptr : &it->second;
}

// Whole-string decimal parse; false when not a number in [lo, hi].
inline bool parse_int(const std::string& s, long long lo, long long hi, long long& out) {
  if (s.empty() || s.size() > 18) return false;
  long long v = 0;
  std::size_t i = 0;
  const bool neg = s[0] == '-';
  if (neg) i = 1;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  if (neg) v = -v;
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

inline bool is_json_object(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

// Close codes an endpoint may put in a close frame (RFC 6455 §7.4).
inline bool sendable_close_code(unsigned code) {
  if (code < 1000 || code > 4999) return false;
  if (code >= 1016 && code <= 2999) return false;
  return code != 1004 && code != 1005 && code != 1006 && code != 1015;
}

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline std::string ok_json() { return "{\"ok\":true}"; }

// The answer to a request frame (a JSON object): its id and payload, event + ".ack".
inline std::string answer_json(std::string_view request) {
  rapidjson::Document doc;
  doc.Parse(request.data(), request.size());
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  // Pointers, not FindMember's iterators: clang in C++20 calls their != ambiguous.
  auto member = [&doc](const char* name) -> const rapidjson::Value* {
    return doc.IsObject() && doc.HasMember(name) ? &doc[name] : nullptr;
  };
  if (const rapidjson::Value* id = member("id"); id != nullptr && id->IsString()) {
    w.Key("id");
    w.String(id->GetString(), id->GetStringLength());
  }
  const rapidjson::Value* event = member("event");
  std::string ack = event != nullptr && event->IsString()
                        ? std::string(event->GetString(), event->GetStringLength())
                        : std::string();
  ack += ack.empty() ? "ack" : ".ack";
  w.Key("event");
  write_string(w, ack);
  if (const rapidjson::Value* payload = member("payload"); payload != nullptr) {
    w.Key("payload");
    payload->Accept(w);
  }
  w.EndObject();
  return buf.GetString();
}

inline std::string error_json(std::string_view message) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(false);
  w.Key("error");
  write_string(w, message);
  w.EndObject();
  return buf.GetString();
}

inline std::string random_uuid(std::mt19937_64& rng) {
  static const char* digits = "0123456789abcdef";
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 10
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    const std::uint64_t word = i < 16 ? hi : lo;
    out += digits[(word >> (60 - 4 * (i % 16))) & 0xF];
  }
  return out;
}

}  // namespace detail

// Everything below runs on the io thread only, except the constructor (before the thread
// starts), run_on_io() and the destructor's hand-over.
class test_server::core {
 public:
  using endpoint_type = websocketpp::server<detail::server_config>;
  using connection_ptr = endpoint_type::connection_ptr;
  using message_ptr = endpoint_type::message_ptr;
  using hdl = websocketpp::connection_hdl;
  struct reply {
    int status = 200;
    std::string body;
  };

  struct peer {
    explicit peer(asio::io_context& io) : ping_timer(io), pong_timer(io), stall_timer(io) {}
    connection_ptr con;
    connection_info info;
    bool current = true;  // registered under its id; false once kicked, dropped or replaced
    bool muted = false;
    bool answers = false;  // answer_requests, or answer=1 in its upgrade query
    bool stalled = false;
    bool awaiting_pong = false;
    unsigned pong_gen = 0;  // tells a stale timer completion from the current one
    unsigned stall_gen = 0;
    bool close_after_write = false;  // close frame queued: end TCP once it is written
    std::deque<std::string> held;    // messages read during a stall
    std::deque<std::string> outbox;  // the send buffer: frames not yet handed to websocketpp
    asio::steady_timer ping_timer, pong_timer, stall_timer;
  };
  using peer_ptr = std::shared_ptr<peer>;

  // A session kept for resume after its transport died.
  struct session {
    explicit session(asio::io_context& io) : expiry(io) {}
    std::string room;
    std::deque<std::string> pending;
    asio::steady_timer expiry;
  };
  using session_ptr = std::shared_ptr<session>;

  explicit core(const server_options& options)
      : opts_(options),
        close_mode_(resolve_close_mode(options.close)),
        work_(asio::make_work_guard(io_)),
        rng_(std::random_device{}()),
        close_rng_(options.close_seed) {
    if (opts_.ping_ms > 0 && opts_.pong_ms > 0 && opts_.ping_ms <= opts_.pong_ms) {
      throw std::invalid_argument("wspulse test server: the ping interval (" +
                                  std::to_string(opts_.ping_ms) +
                                  " ms) must exceed the pong deadline / write timeout (" +
                                  std::to_string(opts_.pong_ms) + " ms), as the hub requires");
    }
    if (opts_.send_buffer == 0) {
      throw std::invalid_argument("wspulse test server: send_buffer must be at least 1 frame");
    }
    setup_endpoint(ws_);
    setup_endpoint(ctl_);
    ws_.set_max_message_size(opts_.max_message == 0 ? std::numeric_limits<std::size_t>::max()
                                                    : opts_.max_message);
    ws_.set_validate_handler([this](hdl h) { return on_validate(h); });
    ws_.set_open_handler([this](hdl h) { on_open(h); });
    ws_.set_close_handler([this](hdl h) { on_close(h); });
    ws_.set_message_handler([this](hdl h, message_ptr m) { on_message(h, m); });
    ws_.set_ping_handler([this](hdl h, std::string) { return on_ping(h); });
    ws_.set_pong_handler([this](hdl h, std::string) { on_pong(h); });

    ctl_.set_max_http_body_size(80u << 20);
    ctl_.set_http_handler([this](hdl h) { on_http(h); });
    ctl_.set_validate_handler([this](hdl h) {
      std::error_code ec;
      auto con = ctl_.get_con_from_hdl(h, ec);
      if (!ec) con->set_status(websocketpp::http::status_code::bad_request);
      return false;
    });

    ws_port = listen(ws_, opts_.port);
    ctl_port = listen(ctl_, opts_.control_port);
    // The listeners are bound before the io thread exists; that thread start orders every
    // write above before anything the thread does.
    thread_ = std::thread([this] { run(); });
  }

  ~core() {
    asio::post(io_, [this] { teardown(); });
    auto finished = run_done_.get_future();
    // Normally every operation ends at once after teardown(); bounded in case one does not.
    if (finished.wait_for(std::chrono::seconds(2)) != std::future_status::ready) io_.stop();
    thread_.join();
    peers_by_hdl_.clear();
    peers_by_id_.clear();
  }

  template <typename F>
  auto run_on_io(F&& f) -> decltype(f()) {
    using result = decltype(f());
    std::packaged_task<result()> task(std::forward<F>(f));
    auto fut = task.get_future();
    asio::post(io_, [&task] { task(); });
    return fut.get();
  }

  std::uint16_t ws_port = 0;
  std::uint16_t ctl_port = 0;

  // ---- operations (io thread) ----

  bool kick(const std::string& id, std::uint16_t code, const std::string& reason,
            std::optional<close_mode> mode) {
    auto p = find_current(id);
    if (!p) return false;
    close_peer(p, code, reason, mode);
    return true;
  }

  bool drop(const std::string& id) {
    auto p = find_current(id);
    if (!p) return false;
    abort_peer(p, true, true);
    return true;
  }

  bool send(const std::string& id, const std::string& text) {
    if (auto p = find_current(id)) {
      enqueue(p, text);
      return true;
    }
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    keep_for_resume(id, *it->second, text);
    return true;
  }

  std::size_t broadcast(const std::string& room_in, const std::string& text) {
    const std::string room = room_in.empty() ? std::string("default") : room_in;
    std::size_t n = 0;
    for (const auto& entry : peers_by_id_) {
      if (entry.second->info.room != room) continue;
      enqueue(entry.second, text);
      ++n;
    }
    for (const auto& entry : sessions_) {
      if (entry.second->room != room) continue;
      keep_for_resume(entry.first, *entry.second, text);
      ++n;
    }
    return n;
  }

  void shutdown(std::optional<close_mode> mode) {
    refusing_ = true;
    for (const auto& p : current_peers()) close_peer(p, 1001, "server shutting down", mode);
  }

  void restart() { refusing_ = false; }

  bool stall(const std::string& id, int ms) {
    auto p = find_current(id);
    if (!p) return false;
    if (ms <= 0) {
      end_stall(p, true);
      return true;
    }
    if (!p->stalled) {
      p->stalled = true;
      p->con->pause_reading();
    }
    const unsigned gen = ++p->stall_gen;
    p->stall_timer.expires_after(std::chrono::milliseconds(ms));
    p->stall_timer.async_wait([this, w = std::weak_ptr<peer>(p), gen](const std::error_code& ec) {
      auto p = w.lock();
      if (ec || !p || p->stall_gen != gen) return;
      end_stall(p, true);
    });
    return true;
  }

  bool mute(const std::string& id) {
    auto p = find_current(id);
    if (!p) return false;
    p->muted = true;
    return true;
  }

  std::vector<connection_info> connections(const std::string& room) const {
    std::vector<connection_info> out;
    for (const auto& entry : peers_by_id_) {
      if (room.empty() || entry.second->info.room == room) out.push_back(entry.second->info);
    }
    return out;
  }

  std::vector<std::string> received(const std::string& id) const {
    const auto it = received_.find(id);
    return it == received_.end() ? std::vector<std::string>{} : it->second;
  }

  void clear_received() {
    received_.clear();
    dropped_.clear();
  }
  std::size_t accepted_count() const { return accepted_; }
  std::size_t dropped(const std::string& id) const {
    const auto it = dropped_.find(id);
    return it == dropped_.end() ? 0 : it->second;
  }

 private:
  void setup_endpoint(endpoint_type& ep) {
    ep.clear_access_channels(websocketpp::log::alevel::all);
    ep.clear_error_channels(websocketpp::log::elevel::all);
    ep.init_asio(&io_);
    ep.set_reuse_addr(true);
    ep.set_user_agent("wspulse-testserver");
    ep.set_tcp_pre_init_handler([this, &ep](hdl h) {
      // Like Go's net package (the hub): no Nagle delay, or a small frame written right after
      // another (the ping on connect) waits for the peer's delayed ACK.
      std::error_code ec;
      if (auto con = ep.get_con_from_hdl(h, ec); !ec) {
        asio::error_code ignored;
        con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      // Remember every accepted socket, so teardown can end connections that are still in
      // their handshake (those are in no table of ours).
      all_.erase(std::remove_if(all_.begin(), all_.end(), [](const hdl& x) { return x.expired(); }),
                 all_.end());
      all_.push_back(h);
    });
  }

  std::uint16_t listen(endpoint_type& ep, std::uint16_t port) {
    std::error_code ec;
    ep.listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port), ec);
    if (!ec) ep.start_accept(ec);
    asio::error_code aec;
    const auto local = ec ? asio::ip::tcp::endpoint{} : ep.get_local_endpoint(aec);
    if (ec || aec) {
      throw std::system_error(
          ec ? ec : aec, "wspulse test server: cannot listen on 127.0.0.1:" + std::to_string(port));
    }
    return local.port();
  }

  void run() {
    for (;;) {
      try {
        io_.run();
        break;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "wspulse test server: io thread: %s\n", e.what());
      }
    }
    run_done_.set_value();
  }

  void teardown() {
    std::error_code ec;
    if (ws_.is_listening()) ws_.stop_listening(ec);
    if (ctl_.is_listening()) ctl_.stop_listening(ec);
    std::vector<peer_ptr> all;
    for (const auto& entry : peers_by_hdl_) all.push_back(entry.second);
    for (const auto& p : all) abort_peer(p, false, false);
    for (const auto& entry : sessions_) entry.second->expiry.cancel();
    sessions_.clear();
    for (const auto& h : all_) {
      if (auto con = ws_.get_con_from_hdl(h, ec); !ec) {
        hard_close(con, false);
      }
    }
    all_.clear();
    work_.reset();
  }

  // ---- handlers ----

  bool on_validate(hdl h) {
    std::error_code ec;
    auto con = ws_.get_con_from_hdl(h, ec);
    if (ec) return false;
    if (refusing_) {
      con->set_status(websocketpp::http::status_code::service_unavailable);
      con->set_body("server closed\n");
      return false;
    }
    const auto q = detail::parse_query(detail::split_target(con->get_resource()).second);
    if (const std::string* t = detail::find_param(q, "token"); t && *t == "bad") {
      con->set_status(websocketpp::http::status_code::unauthorized);
      con->set_body("unauthorized\n");
      return false;
    }
    if (const std::string* r = detail::find_param(q, "reject")) {
      long long status = 0;
      if (!detail::parse_int(*r, 300, 599, status)) status = 400;
      con->set_status(static_cast<websocketpp::http::status_code::value>(status));
      con->set_body("rejected\n");
      return false;
    }
    return true;
  }

  void on_open(hdl h) {
    std::error_code ec;
    auto con = ws_.get_con_from_hdl(h, ec);
    if (ec) return;
    auto p = std::make_shared<peer>(io_);
    p->con = con;
    const std::string_view query = detail::split_target(con->get_resource()).second;
    const auto q = detail::parse_query(query);
    const std::string* room = detail::find_param(q, "room");
    const std::string* id = detail::find_param(q, "id");
    p->info.room = room && !room->empty() ? *room : std::string("default");
    p->info.id = id && !id->empty() ? *id : detail::random_uuid(rng_);
    p->info.query = std::string(query);
    const std::string* answer = detail::find_param(q, "answer");
    p->answers = answer ? *answer == "1" : opts_.answer_requests;
    for (const auto& header : con->get_request().get_headers()) {
      p->info.headers.emplace_back(header.first, header.second);
    }
    if (auto old = find_current(p->info.id)) {
      close_peer(old, 1000, "duplicate connection id", std::nullopt);
    }
    con->set_after_write([this, w = std::weak_ptr<peer>(p)] {
      if (auto p = w.lock()) after_write(p);
    });
    peers_by_hdl_[h] = p;
    peers_by_id_[p->info.id] = p;
    ++accepted_;
    // A kept session: its frames go first, before anything newer.
    if (const auto it = sessions_.find(p->info.id); it != sessions_.end()) {
      it->second->expiry.cancel();
      for (auto& text : it->second->pending) enqueue(p, std::move(text));
      sessions_.erase(it);
    }
    // Like the hub: a ping right away, so a dead peer is found within pong_ms.
    send_ping(p);
    schedule_ping(p);
  }

  void on_close(hdl h) {
    const auto it = peers_by_hdl_.find(h);
    if (it == peers_by_hdl_.end()) return;
    peer_ptr p = it->second;
    peers_by_hdl_.erase(it);
    retire(p, true);  // still current: the client or the network ended it
  }

  void on_message(hdl h, const message_ptr& msg) {
    peer_ptr p = find_by_hdl(h);
    if (!p || !p->current) return;
    if (p->stalled) {
      p->held.push_back(msg->get_payload());
      return;
    }
    deliver(p, msg->get_payload());
  }

  bool on_ping(hdl h) {
    peer_ptr p = find_by_hdl(h);
    return !(p && p->muted);
  }

  void on_pong(hdl h) {
    peer_ptr p = find_by_hdl(h);
    if (!p) return;
    p->awaiting_pong = false;
    ++p->pong_gen;
    p->pong_timer.cancel();
  }

  // ---- connection helpers ----

  void deliver(const peer_ptr& p, const std::string& text) {
    received_[p->info.id].push_back(text);
    // The hub drops a frame its codec cannot decode and keeps the connection.
    if (!detail::is_json_object(text)) return;
    broadcast(p->info.room, text);
    if (p->answers) enqueue(p, detail::answer_json(text));  // after the echo, to the sender
  }

  void send_ping(const peer_ptr& p) {
    if (opts_.ping_ms <= 0 || !p->current) return;
    std::error_code ec;
    p->con->ping("", ec);
    if (ec || opts_.pong_ms <= 0 || p->awaiting_pong) return;
    p->awaiting_pong = true;
    const unsigned gen = ++p->pong_gen;
    p->pong_timer.expires_after(std::chrono::milliseconds(opts_.pong_ms));
    p->pong_timer.async_wait([this, w = std::weak_ptr<peer>(p), gen](const std::error_code& e) {
      auto p = w.lock();
      if (e || !p || p->pong_gen != gen || !p->awaiting_pong) return;
      abort_peer(p, false, true);  // the hub's CloseNow: no close frame
    });
  }

  void schedule_ping(const peer_ptr& p) {
    if (opts_.ping_ms <= 0) return;
    p->ping_timer.expires_after(std::chrono::milliseconds(opts_.ping_ms));
    p->ping_timer.async_wait([this, w = std::weak_ptr<peer>(p)](const std::error_code& e) {
      auto p = w.lock();
      if (e || !p || !p->current) return;
      send_ping(p);
      schedule_ping(p);
    });
  }

  // Ends a stall: handles the held messages in order, then reads again.
  void end_stall(const peer_ptr& p, bool deliver_held) {
    if (!p->stalled) return;
    p->stalled = false;
    ++p->stall_gen;
    p->stall_timer.cancel();
    std::deque<std::string> held;
    held.swap(p->held);
    if (deliver_held) {
      for (const auto& text : held) deliver(p, text);
    }
    p->con->resume_reading();
  }

  // Unregisters p from its id (it stays in peers_by_hdl_ until websocketpp reports the close).
  // resumable: the transport died (not a kick): with resume_ms the session is kept.
  void retire(const peer_ptr& p, bool resumable) {
    if (!p->current) return;
    p->current = false;
    const auto it = peers_by_id_.find(p->info.id);
    if (it != peers_by_id_.end() && it->second == p) {
      peers_by_id_.erase(it);
      if (resumable && opts_.resume_ms > 0) keep_session(p);
    }
    p->outbox.clear();  // the hub's writer stops with the connection
    // Read again so the peer's close reply gets through; what a stalled server never read is
    // lost with the connection.
    if (p->stalled) end_stall(p, false);
    ++p->pong_gen;
    ++p->stall_gen;
    p->ping_timer.cancel();
    p->pong_timer.cancel();
    p->stall_timer.cancel();
  }

  // The hub's close: the close frame, then TCP closed as soon as it is written (no wait for
  // the answer); or, as the mode says, TCP closed without the frame.
  void close_peer(const peer_ptr& p, std::uint16_t code, const std::string& reason,
                  std::optional<close_mode> mode) {
    if (!write_close_frame(mode.value_or(close_mode_))) {
      abort_peer(p, false, false);
      return;
    }
    retire(p, false);
    std::error_code ec;
    p->con->close(static_cast<websocketpp::close::status::value>(code), reason, ec);
    if (ec) {
      abort_peer(p, false, false);
      return;
    }
    p->close_after_write = true;
    after_write(p);  // in case nothing is being written
  }

  bool write_close_frame(close_mode mode) {
    if (mode == close_mode::random) {
      return std::uniform_int_distribution<int>(0, 2)(close_rng_) != 0;
    }
    return mode == close_mode::frame;
  }

  void abort_peer(const peer_ptr& p, bool reset, bool resumable) {
    retire(p, resumable);
    hard_close(p->con, reset);
  }

  // ---- send buffer and sessions ----

  // The hub's per-connection send channel: bounded, the oldest frame goes when it is full.
  void enqueue(const peer_ptr& p, std::string text) {
    p->outbox.push_back(std::move(text));
    pump(p);
    if (p->outbox.size() > opts_.send_buffer) {
      p->outbox.pop_front();
      ++dropped_[p->info.id];
      ++p->info.dropped;
    }
  }

  // The hub's writer runs beside its reader; here one thread does both, so frames go straight
  // to websocketpp while the socket keeps up and wait in the bounded outbox only once
  // websocketpp holds more than kBackedUp bytes it could not start writing (a stalled reader).
  static constexpr std::size_t kBackedUp = 1 << 20;
  void pump(const peer_ptr& p) {
    while (p->current && !p->outbox.empty() && p->con->get_buffered_amount() < kBackedUp) {
      std::error_code ec = p->con->send(p->outbox.front(), websocketpp::frame::opcode::text);
      p->outbox.pop_front();
      (void)ec;  // a connection that is closing just does not get it
    }
  }

  void after_write(const peer_ptr& p) {
    if (p->close_after_write) {
      if (!p->con->write_pending() && p->con->get_buffered_amount() == 0 &&
          p->con->get_state() != websocketpp::session::state::closed) {
        p->close_after_write = false;
        hard_close(p->con, false);
      }
      return;
    }
    pump(p);
  }

  void keep_session(const peer_ptr& p) {
    auto s = std::make_shared<session>(io_);
    s->room = p->info.room;
    s->pending = std::move(p->outbox);  // not yet written: replayed on resume
    const std::string id = p->info.id;
    s->expiry.expires_after(std::chrono::milliseconds(opts_.resume_ms));
    s->expiry.async_wait([this, id, w = std::weak_ptr<session>(s)](const std::error_code& e) {
      const auto it = sessions_.find(id);
      if (e || it == sessions_.end() || it->second != w.lock()) return;
      sessions_.erase(it);
    });
    sessions_[id] = std::move(s);
  }

  void keep_for_resume(const std::string& id, session& s, std::string text) {
    if (s.pending.size() >= opts_.send_buffer) {
      s.pending.pop_front();
      ++dropped_[id];
    }
    s.pending.push_back(std::move(text));
  }

  static close_mode resolve_close_mode(const std::optional<close_mode>& configured) {
    if (configured) return *configured;
    const char* env = std::getenv("WSPULSE_TESTSERVER_CLOSE");
    if (env == nullptr || *env == '\0') return close_mode::frame;
    if (auto mode = parse_close_mode(env)) return *mode;
    throw std::invalid_argument(std::string("wspulse test server: WSPULSE_TESTSERVER_CLOSE='") +
                                env + "': use frame, no_frame or random");
  }

  // Ends the TCP connection without a close frame; websocketpp then reports the close.
  // reset: SO_LINGER 0 + close (RST); otherwise shutdown (FIN).
  static void hard_close(const connection_ptr& con, bool reset) {
    if (reset) {
      asio::error_code ec;
      auto& socket = con->get_raw_socket();
      socket.set_option(asio::socket_base::linger(true, 0), ec);
      socket.close(ec);
    }
    con->terminate(std::error_code());
  }

  peer_ptr find_current(const std::string& id) const {
    const auto it = peers_by_id_.find(id);
    return it == peers_by_id_.end() ? nullptr : it->second;
  }

  peer_ptr find_by_hdl(hdl h) const {
    const auto it = peers_by_hdl_.find(h);
    return it == peers_by_hdl_.end() ? nullptr : it->second;
  }

  std::vector<peer_ptr> current_peers() const {
    std::vector<peer_ptr> out;
    for (const auto& entry : peers_by_id_) out.push_back(entry.second);
    return out;
  }

  // ---- HTTP control API ----

  void on_http(hdl h) {
    std::error_code ec;
    auto con = ctl_.get_con_from_hdl(h, ec);
    if (ec) return;
    const auto& req = con->get_request();
    const auto target = detail::split_target(req.get_uri());
    reply r;
    try {
      r = route(req.get_method(), target.first, detail::parse_query(target.second),
                con->get_request_body());
    } catch (const std::exception& e) {
      r = {500, detail::error_json(e.what())};
    }
    con->set_status(static_cast<websocketpp::http::status_code::value>(r.status));
    con->set_body(r.body);
    con->append_header("Content-Type", "application/json");
    con->append_header("Connection", "close");
  }

  static reply bad(int status, std::string_view message) {
    return {status, detail::error_json(message)};
  }

  reply route(const std::string& method, std::string_view path, const detail::query_map& q,
              const std::string& body) {
    struct route_entry {
      std::string_view path;
      const char* method;
    };
    static const route_entry routes[] = {
        {"/health", "GET"},          {"/connections", "GET"}, {"/received", "GET"},
        {"/accepted", "GET"},        {"/kick", "POST"},       {"/drop", "POST"},
        {"/send", "POST"},           {"/broadcast", "POST"},  {"/shutdown", "POST"},
        {"/restart", "POST"},        {"/stall", "POST"},      {"/mute", "POST"},
        {"/clear_received", "POST"}, {"/dropped", "GET"}};
    const route_entry* found = nullptr;
    for (const auto& r : routes) {
      if (r.path == path) found = &r;
    }
    if (!found) return bad(404, "unknown path");
    if (method != found->method) {
      return bad(405, std::string("method not allowed: use ") + found->method);
    }

    const std::string* id = detail::find_param(q, "id");
    const bool needs_id = path == "/kick" || path == "/drop" || path == "/send" ||
                          path == "/stall" || path == "/mute" || path == "/received" ||
                          path == "/dropped";
    if (needs_id && (!id || id->empty())) return bad(400, "missing id");
    const auto found_or_404 = [](bool existed) {
      return existed ? reply{200, detail::ok_json()} : bad(404, "no such connection");
    };

    if (path == "/health") return {200, detail::ok_json()};
    if (path == "/accepted") {
      return {200, "{\"ok\":true,\"accepted\":" + std::to_string(accepted_) + "}"};
    }
    if (path == "/connections") {
      const std::string* room = detail::find_param(q, "room");
      return {200, connections_json(connections(room ? *room : std::string()))};
    }
    if (path == "/received") return {200, received_json(received(*id))};
    if (path == "/dropped") {
      return {200, "{\"ok\":true,\"dropped\":" + std::to_string(dropped(*id)) + "}"};
    }
    // kick and shutdown: close=frame|no_frame|random overrides the server's close mode.
    std::optional<close_mode> mode;
    if (const std::string* m = detail::find_param(q, "close")) {
      mode = parse_close_mode(*m);
      if (!mode) return bad(400, "close must be frame, no_frame or random");
    }
    if (path == "/clear_received") {
      clear_received();
      return {200, detail::ok_json()};
    }
    if (path == "/kick") {
      long long code = 1000;
      if (const std::string* c = detail::find_param(q, "code")) {
        if (!detail::parse_int(*c, 0, 65535, code) ||
            !detail::sendable_close_code(static_cast<unsigned>(code))) {
          return bad(400, "invalid close code");
        }
      }
      const std::string* reason = detail::find_param(q, "reason");
      return found_or_404(kick(*id, static_cast<std::uint16_t>(code),
                               reason ? *reason : std::string("kicked"), mode));
    }
    if (path == "/drop") return found_or_404(drop(*id));
    if (path == "/mute") return found_or_404(mute(*id));
    if (path == "/stall") {
      long long ms = 0;
      const std::string* m = detail::find_param(q, "ms");
      if (!m || !detail::parse_int(*m, 0, 600000, ms)) return bad(400, "ms must be 0..600000");
      return found_or_404(stall(*id, static_cast<int>(ms)));
    }
    if (path == "/send" || path == "/broadcast") {
      const std::string* raw = detail::find_param(q, "raw");
      const bool validate = !(raw && *raw == "1");
      if (validate && !detail::is_json_object(body)) {
        return bad(400, "body must be a JSON object (a wspulse frame)");
      }
      if (path == "/send") return found_or_404(send(*id, body));
      const std::string* room = detail::find_param(q, "room");
      const std::size_t n = broadcast(room ? *room : std::string(), body);
      return {200, "{\"ok\":true,\"delivered\":" + std::to_string(n) + "}"};
    }
    if (path == "/shutdown") {
      shutdown(mode);
      return {200, detail::ok_json()};
    }
    // "/restart"
    restart();
    return {200, detail::ok_json()};
  }

  static std::string connections_json(const std::vector<connection_info>& list) {
    rapidjson::StringBuffer buf;
    detail::json_writer w(buf);
    w.StartObject();
    w.Key("ok");
    w.Bool(true);
    w.Key("connections");
    w.StartArray();
    for (const auto& c : list) {
      w.StartObject();
      w.Key("id");
      detail::write_string(w, c.id);
      w.Key("room");
      detail::write_string(w, c.room);
      w.Key("query");
      detail::write_string(w, c.query);
      w.Key("dropped");
      w.Uint64(c.dropped);
      w.Key("headers");
      w.StartObject();
      for (const auto& h : c.headers) {
        detail::write_string(w, h.first);
        detail::write_string(w, h.second);
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return buf.GetString();
  }

  static std::string received_json(const std::vector<std::string>& messages) {
    rapidjson::StringBuffer buf;
    detail::json_writer w(buf);
    w.StartObject();
    w.Key("ok");
    w.Bool(true);
    w.Key("messages");
    w.StartArray();
    for (const auto& m : messages) detail::write_string(w, m);
    w.EndArray();
    w.EndObject();
    return buf.GetString();
  }

  server_options opts_;
  close_mode close_mode_;
  asio::io_context io_;  // declared first: destroyed after everything that uses it
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  endpoint_type ws_;
  endpoint_type ctl_;
  std::thread thread_;
  std::promise<void> run_done_;

  std::map<hdl, peer_ptr, std::owner_less<hdl>> peers_by_hdl_;
  std::map<std::string, peer_ptr> peers_by_id_;  // current (open, not retired) connections
  std::map<std::string, std::vector<std::string>> received_;
  std::vector<hdl> all_;  // every accepted socket, for teardown
  std::size_t accepted_ = 0;
  bool refusing_ = false;
  std::mt19937_64 rng_;
  std::mt19937_64 close_rng_;  // close_mode::random: seeded, so a run can be repeated
  std::map<std::string, session_ptr> sessions_;  // kept for resume, by id
  std::map<std::string, std::size_t> dropped_;   // send-buffer drops, by id
};

// ---- test_server ----

test_server::test_server(server_options options)
    : core_(std::make_unique<core>(options)),
      port_(core_->ws_port),
      control_port_(core_->ctl_port) {}

test_server::~test_server() = default;

std::string test_server::url(std::string_view path_and_query) const {
  return "ws://127.0.0.1:" + std::to_string(port_) + std::string(path_and_query);
}

bool test_server::kick(std::string_view id, std::uint16_t code, std::string_view reason,
                       std::optional<close_mode> mode) {
  if (!detail::sendable_close_code(code)) {
    throw std::invalid_argument("wspulse test server: close code " + std::to_string(code) +
                                " may not be sent");
  }
  return core_->run_on_io([this, id = std::string(id), code, reason = std::string(reason), mode] {
    return core_->kick(id, code, reason, mode);
  });
}

bool test_server::drop(std::string_view id) {
  return core_->run_on_io([this, id = std::string(id)] { return core_->drop(id); });
}

bool test_server::send(std::string_view id, std::string_view json_frame) {
  return core_->run_on_io([this, id = std::string(id), text = std::string(json_frame)] {
    return core_->send(id, text);
  });
}

std::size_t test_server::broadcast(std::string_view room, std::string_view json_frame) {
  return core_->run_on_io([this, room = std::string(room), text = std::string(json_frame)] {
    return core_->broadcast(room, text);
  });
}

void test_server::shutdown(std::optional<close_mode> mode) {
  core_->run_on_io([this, mode] { core_->shutdown(mode); });
}

void test_server::restart() {
  core_->run_on_io([this] { core_->restart(); });
}

bool test_server::stall(std::string_view id, int ms) {
  return core_->run_on_io([this, id = std::string(id), ms] { return core_->stall(id, ms); });
}

bool test_server::mute(std::string_view id) {
  return core_->run_on_io([this, id = std::string(id)] { return core_->mute(id); });
}

std::vector<connection_info> test_server::connections(std::string_view room) const {
  return core_->run_on_io([this, room = std::string(room)] { return core_->connections(room); });
}

std::vector<std::string> test_server::received(std::string_view id) const {
  return core_->run_on_io([this, id = std::string(id)] { return core_->received(id); });
}

void test_server::clear_received() {
  core_->run_on_io([this] { core_->clear_received(); });
}

std::size_t test_server::accepted_count() const {
  return core_->run_on_io([this] { return core_->accepted_count(); });
}

std::size_t test_server::dropped(std::string_view id) const {
  return core_->run_on_io([this, id = std::string(id)] { return core_->dropped(id); });
}

}  // namespace wspulse::testing
