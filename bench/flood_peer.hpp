// wspulse_client benchmarks — a sender faster than any client: a raw WebSocket server on
// loopback (tests/support/scripted_peer.hpp) that writes N pre-encoded, unmasked frames in one
// go when told, and answers pings in between. It measures a client's receive path, where
// test_server::broadcast() (about 15 k frames/s, 28 us of server CPU per frame) measures the
// server.
// SPDX-License-Identifier: MIT
#pragma once

#include "../tests/support/scripted_peer.hpp"
#include "bench_support.hpp"

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

namespace wspulse {
namespace bench {

class flood_peer {
 public:
  flood_peer() : peer_([this](test_support::peer_socket& s) { serve(s); }) {}
  ~flood_peer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    // peer_ (the last member) goes first: it hangs up, which ends the client, and joins.
  }
  flood_peer(const flood_peer&) = delete;
  flood_peer& operator=(const flood_peer&) = delete;

  std::string url() const { return peer_.url(); }
  /// The thread that writes (its CPU time is the sender's), once a client has connected.
  pid_t tid() { return tid_future_.get(); }

  /// Starts writing `bytes` (kept alive by the caller until written() returns).
  void write(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &bytes;
    written_ = false;
    cv_.notify_all();
  }
  /// Waits until the last write is in the socket; false when it failed or timed out.
  bool written(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return written_; }) && ok_;
  }

 private:
  void serve(test_support::peer_socket& s) {
    tid_.set_value(current_tid());
    for (;;) {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::milliseconds(100),
                        [this] { return stop_ || job_ != nullptr; })) {
        lock.unlock();
        answer_pings(s);
        continue;
      }
      if (stop_) return;
      const std::string* bytes = job_;
      lock.unlock();
      const bool ok = s.write_all(*bytes, std::chrono::milliseconds(120000));
      lock.lock();
      job_ = nullptr;
      ok_ = ok;
      written_ = true;
      cv_.notify_all();
    }
  }

  // Between floods only (a pong inside a flood would split a frame): the client's heartbeat
  // drops a peer that leaves its pings unanswered for pong_wait (60 s), and a run is longer.
  static void answer_pings(test_support::peer_socket& s) {
    while (auto f = s.read_frame(std::chrono::milliseconds(10))) {
      if (f->opcode == 0x9) s.write_all(test_support::server_frame(0xA, f->payload));
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const std::string* job_ = nullptr;
  bool written_ = true;
  bool ok_ = true;
  bool stop_ = false;
  std::promise<pid_t> tid_;
  std::shared_future<pid_t> tid_future_{tid_.get_future()};
  test_support::scripted_peer peer_;  // last: its thread runs serve(), using the members above
};

}  // namespace bench
}  // namespace wspulse
