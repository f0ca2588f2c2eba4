// wspulse_client tests — records a client's callbacks in order and checks the callback rules
// (never concurrent, nothing after on_disconnect) as they happen.
// SPDX-License-Identifier: MIT
#pragma once

#include "wait_until.hpp"

#include <wspulse_client.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace wspulse::test_support {

class recorder {
 public:
  /// Installs the four callbacks on opts (chaining `extra` hooks the test wants to run).
  template <class Options>
  Options& attach(Options& opts) {
    opts.on_message([this](const frame& f) {
      enter();
      {
        std::lock_guard<std::mutex> lock(mu_);
        frames_.push_back(f);
        events_.push_back("message");
      }
      if (on_message_hook) on_message_hook(f);
      leave();
    });
    opts.on_transport_drop([this](const reason& r) {
      enter();
      {
        std::lock_guard<std::mutex> lock(mu_);
        drops_.push_back(r);
        events_.push_back("drop");
      }
      if (on_drop_hook) on_drop_hook(r);
      leave();
    });
    opts.on_transport_restore([this] {
      enter();
      {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back("restore");
      }
      if (on_restore_hook) on_restore_hook();
      leave();
    });
    opts.on_disconnect([this](const reason& r) {
      enter();
      {
        std::lock_guard<std::mutex> lock(mu_);
        disconnects_.push_back(r);
        events_.push_back("disconnect");
      }
      if (on_disconnect_hook) on_disconnect_hook(r);
      leave();
    });
    return opts;
  }

  std::function<void(const frame&)> on_message_hook;
  std::function<void(const reason&)> on_drop_hook;
  std::function<void()> on_restore_hook;
  std::function<void(const reason&)> on_disconnect_hook;

  std::vector<frame> frames() const { return locked(frames_); }
  std::vector<reason> drops() const { return locked(drops_); }
  std::vector<reason> disconnects() const { return locked(disconnects_); }
  std::vector<std::string> events() const { return locked(events_); }
  /// Events without the messages: the lifecycle sequence.
  std::vector<std::string> lifecycle() const {
    std::vector<std::string> out;
    for (auto& e : events())
      if (e != "message") out.push_back(e);
    return out;
  }
  std::size_t frame_count() const { return frames().size(); }
  /// Rules broken so far (a callback ran concurrently, or something ran after on_disconnect).
  int violations() const { return violations_.load(); }

  bool wait_frames(std::size_t n, std::chrono::milliseconds t = std::chrono::seconds(5)) const {
    return wait_until([&] { return frame_count() >= n; }, t);
  }
  bool wait_drops(std::size_t n, std::chrono::milliseconds t = std::chrono::seconds(5)) const {
    return wait_until([&] { return drops().size() >= n; }, t);
  }
  bool wait_disconnect(std::chrono::milliseconds t = std::chrono::seconds(5)) const {
    return wait_until([&] { return !disconnects().empty(); }, t);
  }
  bool wait_event_count(const std::string& name, std::size_t n,
                        std::chrono::milliseconds t = std::chrono::seconds(5)) const {
    return wait_until(
        [&] {
          std::size_t c = 0;
          for (auto& e : events()) c += e == name ? 1 : 0;
          return c >= n;
        },
        t);
  }

 private:
  void enter() {
    if (inside_.exchange(true)) ++violations_;
    std::lock_guard<std::mutex> lock(mu_);
    if (!disconnects_.empty()) ++violations_;  // nothing may follow on_disconnect
  }
  void leave() { inside_.store(false); }
  template <class T>
  T locked(const T& v) const {
    std::lock_guard<std::mutex> lock(mu_);
    return v;
  }

  mutable std::mutex mu_;
  std::vector<frame> frames_;
  std::vector<reason> drops_;
  std::vector<reason> disconnects_;
  std::vector<std::string> events_;
  std::atomic<bool> inside_{false};
  std::atomic<int> violations_{0};
};

}  // namespace wspulse::test_support
