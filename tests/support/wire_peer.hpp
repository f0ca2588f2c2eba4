// wspulse_client tests — a WebSocket peer on a bare blocking socket, to observe exactly what a
// server writes: it upgrades, then reads only when told (so it can stall the server's writes),
// never answers anything (no pong, no close reply) and reports EOF as it comes.
// SPDX-License-Identifier: MIT
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wspulse::test_support {

class wire_peer {
 public:
  struct ws_frame {
    int opcode = 0;
    std::string payload;
  };
  using ms = std::chrono::milliseconds;

  wire_peer() = default;
  ~wire_peer() {
    if (fd_ >= 0) ::close(fd_);
  }
  wire_peer(const wire_peer&) = delete;
  wire_peer& operator=(const wire_peer&) = delete;

  /// Connects to 127.0.0.1:port and upgrades `target`; true on a 101 answer.
  /// receive_buffer > 0 shrinks SO_RCVBUF first (so a stalled reader backs up sooner).
  bool upgrade(std::uint16_t port, const std::string& target, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    const std::string request = "GET " + target +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + ms(3000);
    while (buf_.find("\r\n\r\n") == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    const auto end = buf_.find("\r\n\r\n") + 4;
    const bool ok = buf_.compare(0, 12, "HTTP/1.1 101") == 0;
    buf_.erase(0, end);
    return ok;
  }

  /// Reads until the server closes TCP or the timeout; true when EOF (or a reset) came.
  bool read_to_eof(ms timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_ && read_some(deadline)) {
    }
    return eof_;
  }

  /// Reads until n data frames arrived (or the timeout); true when they did.
  bool read_data_frames(std::size_t n, ms timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::size_t data = 0;
      for (const auto& f : frames()) data += (f.opcode == 1 || f.opcode == 2) ? 1 : 0;
      if (data >= n) return true;
      if (eof_ || !read_some(deadline)) return false;
    }
  }

  /// Every complete frame read so far (server frames are unmasked).
  std::vector<ws_frame> frames() const {
    std::vector<ws_frame> out;
    std::size_t at = 0;
    while (at + 2 <= buf_.size()) {
      const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(buf_[i]); };
      std::uint64_t len = byte(at + 1) & 0x7F;
      std::size_t head = 2;
      if (len == 126 || len == 127) {
        const std::size_t n = len == 126 ? 2 : 8;
        if (at + 2 + n > buf_.size()) break;
        len = 0;
        for (std::size_t i = 0; i < n; ++i) len = len << 8 | byte(at + 2 + i);
        head += n;
      }
      if (at + head + len > buf_.size()) break;
      out.push_back({byte(at) & 0x0F, buf_.substr(at + head, static_cast<std::size_t>(len))});
      at += head + static_cast<std::size_t>(len);
    }
    return out;
  }

  bool eof() const noexcept { return eof_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

}  // namespace wspulse::test_support
