// wspulse_client — bounded, adaptive spinning before a thread sleeps (callback_thread policy):
// a spin that finds work saves the wake-up (5-50 us, by machine), one that finds none wastes
// its CPU, so a failed spin makes the next ones rarer.
// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace wspulse {
namespace detail {

/// Polls `ready()` for up to `spin`, yielding between polls (the thread we wait for may need
/// this core). True when it was ready in time.
template <class Ready>
bool spin_for(std::chrono::microseconds spin, Ready&& ready) {
  const auto until = std::chrono::steady_clock::now() + spin;
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
}

/// Whether to spin before the next sleep. After a spin that found nothing, the next 1, 2, 4 …
/// 64 sleeps come without one; a spin that found work restores spinning every time. Traffic
/// that answers quickly (request / reply) keeps spinning; a slow stream of frames stops paying.
class spin_gate {
 public:
  bool try_now() noexcept {
    if (skip_left_ == 0) return true;
    --skip_left_;
    return false;
  }
  void found(bool work) noexcept {
    skip_ = work ? 0u : std::min(skip_ == 0 ? 1u : skip_ * 2, 64u);
    skip_left_ = skip_;
  }

 private:
  unsigned skip_ = 0;
  unsigned skip_left_ = 0;
};

}  // namespace detail
}  // namespace wspulse
