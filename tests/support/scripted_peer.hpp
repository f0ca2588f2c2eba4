// wspulse_client tests — a scripted raw WebSocket server on loopback: it accepts one
// connection, answers the HTTP upgrade, then runs a test's script on its own thread, which
// writes exact bytes (e.g. frames no real server would send) and reads what the client sends.
// Every blocking call takes a deadline; the destructor unblocks and joins the script.
// SPDX-License-Identifier: MIT
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace wspulse::test_support {

/// SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept: the TLS-less builds have no OpenSSL.
inline std::array<unsigned char, 20> sha1(std::string_view data) {
  std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  std::string msg(data);
  const std::uint64_t bits = std::uint64_t{data.size()} * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (i * 8)) & 0xFF);
  auto rotl = [](std::uint32_t v, int n) { return (v << n) | (v >> (32 - n)); };
  for (std::size_t block = 0; block < msg.size(); block += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int b = 0; b < 4; ++b)
        w[i] = (w[i] << 8) | static_cast<unsigned char>(msg[block + i * 4 + b]);
    }
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f = 0, k = 0;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999u;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1u;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDCu;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6u;
      }
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<unsigned char, 20> out{};
  for (int i = 0; i < 20; ++i) out[i] = static_cast<unsigned char>(h[i / 4] >> (24 - (i % 4) * 8));
  return out;
}

inline std::string base64(const unsigned char* data, std::size_t len) {
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < len; i += 3) {
    const std::uint32_t n = (std::uint32_t{data[i]} << 16) |
                            (i + 1 < len ? std::uint32_t{data[i + 1]} << 8 : 0) |
                            (i + 2 < len ? std::uint32_t{data[i + 2]} : 0);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += i + 1 < len ? table[(n >> 6) & 63] : '=';
    out += i + 2 < len ? table[n & 63] : '=';
  }
  return out;
}

/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 § 4.2.2).
inline std::string websocket_accept(std::string_view key) {
  const auto digest = sha1(std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  return base64(digest.data(), digest.size());
}

/// An unmasked server frame with FIN set; `declared` overrides the length in the header.
inline std::string server_frame(unsigned opcode, std::string_view payload,
                                std::optional<std::uint64_t> declared = std::nullopt) {
  const std::uint64_t len = declared.value_or(payload.size());
  std::string out(1, static_cast<char>(0x80 | opcode));
  if (len < 126) {
    out += static_cast<char>(len);
  } else if (len <= 0xFFFF) {
    out += static_cast<char>(126);
    for (int i = 1; i >= 0; --i) out += static_cast<char>((len >> (i * 8)) & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((len >> (i * 8)) & 0xFF);
  }
  out.append(payload);
  return out;
}

/// The accepted connection, as the script sees it.
class peer_socket {
 public:
  using clock = std::chrono::steady_clock;
  using ms = std::chrono::milliseconds;

  struct frame {
    unsigned opcode = 0;
    std::string payload;
  };

  explicit peer_socket(int fd) : fd_(fd) {}

  /// Writes all of `bytes`; false when the peer is gone or `timeout` passed first.
  bool write_all(std::string_view bytes, ms timeout = ms(5000)) {
    const auto deadline = clock::now() + timeout;
    while (!bytes.empty()) {
      const long n = write_some(bytes, deadline);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Writes what the socket takes before `deadline` (0 when none, -1 when the peer is gone).
  long write_some(std::string_view bytes, clock::time_point deadline) {
    if (!wait_for(POLLOUT, deadline)) return 0;
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    return static_cast<long>(n);
  }

  /// The next frame the client sent (unmasked), or nothing on EOF or timeout.
  std::optional<frame> read_frame(ms timeout = ms(5000)) {
    const auto deadline = clock::now() + timeout;
    std::string head;
    if (!read_exact(head, 2, deadline)) return std::nullopt;
    frame f;
    f.opcode = static_cast<unsigned char>(head[0]) & 0x0Fu;
    std::uint64_t len = static_cast<unsigned char>(head[1]) & 0x7Fu;
    const bool masked = (static_cast<unsigned char>(head[1]) & 0x80u) != 0;
    const std::size_t extra = len == 126 ? 2 : len == 127 ? 8 : 0;
    std::string ext;
    if (extra > 0) {
      if (!read_exact(ext, extra, deadline)) return std::nullopt;
      len = 0;
      for (char c : ext) len = (len << 8) | static_cast<unsigned char>(c);
    }
    std::string mask;
    if (masked && !read_exact(mask, 4, deadline)) return std::nullopt;
    if (!read_exact(f.payload, static_cast<std::size_t>(len), deadline)) return std::nullopt;
    for (std::size_t i = 0; masked && i < f.payload.size(); ++i) f.payload[i] ^= mask[i % 4];
    return f;
  }

  /// True when the client closed TCP (EOF or reset) before `timeout`; data is discarded.
  bool wait_for_eof(ms timeout) {
    const auto deadline = clock::now() + timeout;
    char buf[4096];
    while (wait_for(POLLIN, deadline)) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
    }
    return false;
  }

  /// Closes TCP (both directions): the client sees EOF.
  void hang_up() { ::shutdown(fd_, SHUT_RDWR); }

  /// Ends like a well-behaved server: skips frames until the client's close, echoes its
  /// payload, hangs up. False when no close came within `timeout`.
  bool answer_close(ms timeout) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<ms>(deadline - clock::now());
      auto f = read_frame(left);
      if (!f || left.count() <= 0) return false;
      if (f->opcode != 0x8) continue;
      write_all(server_frame(0x8, f->payload), ms(1000));
      hang_up();
      return true;
    }
  }

  int fd() const noexcept { return fd_; }

 private:
  bool wait_for(short events, clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<ms>(deadline - clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  bool read_exact(std::string& out, std::size_t n, clock::time_point deadline) {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
      if (!wait_for(POLLIN, deadline)) return false;
      const ssize_t r = ::recv(fd_, &out[got], n - got, MSG_DONTWAIT);
      if (r == 0) return false;
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return false;
      }
      got += static_cast<std::size_t>(r);
    }
    return true;
  }

  int fd_;
};

/// One connection, one script. `receive_buffer` > 0 sets SO_RCVBUF (bytes) before listening,
/// so a script that stops reading makes the client's writes stall early.
class scripted_peer {
 public:
  using script = std::function<void(peer_socket&)>;

  explicit scripted_peer(script run, int receive_buffer = 0) : run_(std::move(run)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0)
      ::setsockopt(listen_fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~scripted_peer() {
    stopping_ = true;
    if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);  // unblocks the script's polls
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (conn_fd_ >= 0) ::close(conn_fd_);
    ::close(listen_fd_);
  }
  scripted_peer(const scripted_peer&) = delete;
  scripted_peer& operator=(const scripted_peer&) = delete;

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
  /// The script returned (or the upgrade failed).
  bool finished() const noexcept { return finished_; }

 private:
  void serve() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) > 0 && !stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        conn_fd_ = fd;
        peer_socket peer(fd);
        if (upgrade(peer)) run_(peer);
        peer.hang_up();  // a script that returns is done with the connection
      }
    }
    finished_ = true;
  }

  static bool upgrade(peer_socket& peer) {
    std::string request;
    char c;
    const auto deadline = peer_socket::clock::now() + std::chrono::seconds(5);
    while (request.size() < 16384 && request.find("\r\n\r\n") == std::string::npos) {
      pollfd p{peer.fd(), POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - peer_socket::clock::now())
                            .count();
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      if (::recv(peer.fd(), &c, 1, 0) != 1) return false;
      request += c;
    }
    std::string lower = request;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const std::size_t at = lower.find("\r\nsec-websocket-key:");
    if (at == std::string::npos) return false;
    std::size_t begin = at + 20;
    while (begin < request.size() && request[begin] == ' ') ++begin;
    const std::string key = request.substr(begin, request.find("\r\n", begin) - begin);
    return peer.write_all(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
        websocket_accept(key) + "\r\n\r\n");
  }

  script run_;
  int listen_fd_ = -1;
  std::atomic<int> conn_fd_{-1};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace wspulse::test_support
