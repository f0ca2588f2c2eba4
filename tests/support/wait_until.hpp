// wspulse_client tests — wait for a condition with a deadline (polls; never a fixed sleep).
// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <thread>

namespace wspulse::test_support {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif
#else
inline constexpr bool under_tsan = false;
#endif

/// Polls pred every `poll` until it returns true or `timeout` has passed.
/// @return the last value of pred (true = the condition was met in time).
template <typename Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace wspulse::test_support
