// wspulse_client — the bounded FIFO of encoded outbound frames: a ring of Capacity slots whose
// storage comes in blocks of 16, allocated when first used and then kept (an idle client pays
// nothing, one with a frame or two in flight one block). A slot never moves once allocated, so
// the I/O thread may read a queued frame without the lock while a sender pushes another. A
// frame leaves only once its write completed. Not synchronised: the client guards it with its
// mutex.
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
  static constexpr std::size_t block_slots = 16;
  static constexpr std::size_t blocks = (Capacity + block_slots - 1) / block_slots;

 public:
  static constexpr std::size_t capacity = Capacity;

  bool full() const noexcept { return size_ == Capacity; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  /// Precondition: !full().
  void push(std::string&& wire) {
    if (!table_) table_ = std::make_unique<std::unique_ptr<std::string[]>[]>(blocks);
    const std::size_t at = physical(size_);
    auto& block = table_[at / block_slots];
    if (!block) block = std::make_unique<std::string[]>(block_slots);
    block[at % block_slots] = std::move(wire);
    ++size_;
  }

  /// The i-th oldest frame, i < size().
  const std::string& at(std::size_t i) const noexcept { return slot(physical(i)); }

  /// Drops the n oldest frames (their writes completed), releasing their memory.
  void pop(std::size_t n) noexcept {
    for (; n > 0 && size_ > 0; --n, --size_) {
      std::string().swap(slot(head_));
      head_ = head_ + 1 == Capacity ? 0 : head_ + 1;
    }
  }

 private:
  std::size_t physical(std::size_t i) const noexcept {
    const std::size_t at = head_ + i;
    return at < Capacity ? at : at - Capacity;
  }
  std::string& slot(std::size_t at) const noexcept {
    return table_[at / block_slots][at % block_slots];
  }

  std::unique_ptr<std::unique_ptr<std::string[]>[]> table_;  // `blocks` entries, never moved
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace wspulse
