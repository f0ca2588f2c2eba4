// wspulse_client — every thread the library starts goes through start_thread(), so that the
// failure to get one (near a process's thread limit) takes one path, and tests can provoke it.
// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cerrno>
#include <system_error>
#include <thread>
#include <utility>

namespace wspulse {
namespace detail {

/// Test seam: when >= 0, the number of threads start_thread() still starts before it fails
/// as std::thread does when the system refuses one. -1 (the default): never fails.
inline std::atomic<int> thread_start_budget{-1};

template <class Fn>
std::thread start_thread(Fn&& fn) {
  int budget = thread_start_budget.load(std::memory_order_relaxed);
  while (budget > 0 && !thread_start_budget.compare_exchange_weak(budget, budget - 1,
                                                                  std::memory_order_relaxed)) {
  }
  if (budget == 0) {
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            "thread creation refused (test seam)");
  }
  return std::thread(std::forward<Fn>(fn));
}

}  // namespace detail
}  // namespace wspulse
