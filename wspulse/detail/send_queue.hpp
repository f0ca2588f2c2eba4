// wspulse_client — the bounded FIFO of encoded outbound frames. Fixed capacity; the slots are
// allocated at the first push (an idle client does not pay for them). A frame leaves only once
// its write completed. Not synchronised: the client guards it with its mutex.
// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <cstddef>
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
    if (!slots_) slots_ = std::make_unique<std::string[]>(Capacity);
    slots_[(head_ + size_) % Capacity] = std::move(wire);
    ++size_;
  }

  /// The i-th oldest frame, i < size().
  const std::string& at(std::size_t i) const noexcept { return slots_[(head_ + i) % Capacity]; }

  /// Drops the n oldest frames (their writes completed), releasing their memory.
  void pop(std::size_t n) noexcept {
    for (; n > 0 && size_ > 0; --n, --size_) {
      std::string().swap(slots_[head_]);
      head_ = (head_ + 1) % Capacity;
    }
  }

 private:
  std::unique_ptr<std::string[]> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace wspulse
