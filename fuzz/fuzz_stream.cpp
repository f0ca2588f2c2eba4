// wspulse_client fuzzing — the inbound byte stream of a connection. An in-process peer on
// 127.0.0.1 (one TCP listener, reused by every run) answers the client's upgrade with a valid
// 101, writes the fuzz input as the bytes that follow it (frames, fragments, control frames,
// bad lengths, bad UTF-8, close frames: whatever the input holds), half-closes, reads until
// the client closes, and closes. A real basic_client dials it for each input and must finish
// within a bound, without crash, leak or sanitizer report.
//
// The first input byte is a set of flags (what the client's handler and the peer do), the rest
// is the server's bytes. The client keeps a max_message_size (64 KiB): the unlimited case is a
// separate known issue (see the report of issue 11), not what this target looks for.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "fuzz_support.hpp"

#include <websocketpp/base64/base64.hpp>
#include <websocketpp/sha1/sha1.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Flags of the first input byte.
constexpr std::uint8_t flag_echo = 1;         // on_message sends a frame back
constexpr std::uint8_t flag_throw = 2;        // on_message throws (callback_failed path)
constexpr std::uint8_t flag_close_early = 4;  // close() right after the dial, racing the input
constexpr std::uint8_t flag_with_101 = 8;     // the input goes out in the same write as the 101

// Bounds of one run: generous against the client's own timeouts (1 s write wait), tight
// enough that a hang is reported quickly.
constexpr auto client_bound = 5s;
constexpr auto peer_bound = 5s;
constexpr auto peer_io_deadline = 3s;

using fuzz_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                          wspulse::no_reconnect, wspulse::basic_no_heartbeat<1000>,
                                          wspulse::buffer_bounds<16, 64 * 1024, 64>>;

// Waits until fd is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, clock_type::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
}

bool send_all(int fd, const std::string& bytes, clock_type::time_point deadline) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    if (!wait_fd(fd, POLLOUT, deadline)) return false;
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;  // the client closed: the rest of the input is moot
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string accept_key(const std::string& request) {
  std::string lower(request);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string name = "\r\nsec-websocket-key:";
  const std::size_t at = lower.find(name);
  if (at == std::string::npos) return {};
  std::size_t begin = at + name.size();
  while (begin < request.size() && request[begin] == ' ') ++begin;
  const std::size_t end = request.find("\r\n", begin);
  const std::string key =
      request.substr(begin, end - begin) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[20];
  websocketpp::sha1::calc(key.data(), key.size(), digest);
  return websocketpp::base64_encode(digest, sizeof digest);
}

/// The server side: one listener for the whole process, one connection per run.
class peer {
 public:
  peer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("fuzz peer: cannot listen on 127.0.0.1");
    url_ = "ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ws";
    thread_ = std::thread([this] { serve_forever(); });
  }

  const std::string& url() const { return url_; }

  /// The next connection gets these bytes after its 101.
  void arm(std::string bytes, bool with_101) {
    std::lock_guard<std::mutex> lock(mu_);
    bytes_ = std::move(bytes);
    with_101_ = with_101;
    busy_ = true;
  }

  /// True once the armed connection was served and closed.
  bool wait_served(std::chrono::milliseconds bound) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, bound, [this] { return !busy_; });
  }

 private:
  void serve_forever() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string bytes;
      bool with_101 = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        bytes = bytes_;
        with_101 = with_101_;
      }
      serve(fd, bytes, with_101);
      ::close(fd);
      {
        std::lock_guard<std::mutex> lock(mu_);
        busy_ = false;
      }
      cv_.notify_all();
    }
  }

  static void serve(int fd, const std::string& bytes, bool with_101) {
    const auto deadline = clock_type::now() + peer_io_deadline;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      if (!wait_fd(fd, POLLIN, deadline)) return;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        accept_key(request) + "\r\n\r\n";
    if (with_101) {
      response += bytes;
      if (!send_all(fd, response, deadline)) return;
    } else if (!send_all(fd, response, deadline) || !send_all(fd, bytes, deadline)) {
      return;
    }
    ::shutdown(fd, SHUT_WR);
    // Read (and discard: pongs, echoes, the close frame) until the client closes.
    while (wait_fd(fd, POLLIN, deadline) && ::recv(fd, buf, sizeof buf, 0) > 0) {
    }
  }

  int listener_ = -1;
  std::string url_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string bytes_;
  bool with_101_ = false;
  bool busy_ = false;
};

peer& the_peer() {
  static peer* p = new peer;  // lives as long as the process; its thread never stops
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  peer& server = the_peer();
  server.arm(std::string(reinterpret_cast<const char*>(data) + 1, size - 1),
             (flags & flag_with_101) != 0);

  std::atomic<int> messages{0};
  fuzz_client::options opts;
  opts.handshake_timeout(2s);
  opts.on_message([&messages, flags](const wspulse::frame& f) {
    const int n = messages.fetch_add(1) + 1;
    if ((flags & flag_throw) && n == 1) throw std::runtime_error("fuzz: handler throws");
    (void)f;
  });
  wspulse::reason why;
  {
    fuzz_client c = fuzz_client::dial(server.url(), std::move(opts), why);
    if (c) {
      if (flags & flag_echo) (void)c.send({"1", "echo", "{\"n\":1}"});
      if (flags & flag_close_early) c.close();
      if (c.done().wait_for(client_bound) != std::future_status::ready)
        wspulse_fuzz::violated("the client finishes within 5 s after the server closed");
    }
  }  // the destructor closes and joins every thread of the client
  if (!server.wait_served(peer_bound))
    wspulse_fuzz::violated("the peer's connection ends within 5 s of the client finishing");
  return 0;
}
