// wspulse_client — the bounded FIFO of encoded outbound frames. At most Capacity frames; the
// slot array grows with use (an idle client pays nothing, a client with one frame in flight a
// few slots) and keeps its high-water size. A frame leaves only once its write completed. Not
// synchronised: the client guards it with its mutex.
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace wspulse {
namespace detail {

template <std::size_t Capacity>
class send_queue {
 public:
  static constexpr std::size_t capacity = Capacity;

  bool full() const noexcept { return size_ == Capacity; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  /// Precondition: !full().
  void push(std::string&& wire) {
    if (size_ == slots_) grow();
    slot(size_) = std::move(wire);
    ++size_;
  }

  /// The i-th oldest frame, i < size().
  const std::string& at(std::size_t i) const noexcept { return slot(i); }

  /// Drops the n oldest frames (their writes completed), releasing their memory.
  void pop(std::size_t n) noexcept {
    for (; n > 0 && size_ > 0; --n, --size_) {
      std::string().swap(slot(0));
      head_ = head_ + 1 == slots_ ? 0 : head_ + 1;
    }
  }

 private:
  std::string& slot(std::size_t i) const noexcept {
    const std::size_t at = head_ + i;
    return ring_[at < slots_ ? at : at - slots_];
  }

  void grow() {
    const std::size_t wanted = slots_ == 0 ? 4 : slots_ * 2;
    const std::size_t next = wanted < Capacity ? wanted : Capacity;
    auto bigger = std::make_unique<std::string[]>(next);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(slot(i));
    ring_ = std::move(bigger);
    slots_ = next;
    head_ = 0;
  }

  std::unique_ptr<std::string[]> ring_;
  std::size_t slots_ = 0;  // allocated slots, at most Capacity
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace wspulse
