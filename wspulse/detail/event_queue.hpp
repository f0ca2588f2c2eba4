// wspulse_client — what the engine tells the user's callbacks, and (callback_thread policy)
// the bounded hand-off from the I/O thread to the callback thread.
// SPDX-License-Identifier: MIT
#pragma once

#include "../error.hpp"
#include "../options.hpp"
#include "spin.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

namespace wspulse {
namespace detail {

/// One thing for the callback side to do, in order.
struct event {
  enum class kind : std::uint8_t {
    message,     // data: the raw bytes, transport: where they came from
    dialed,      // the first dial succeeded: the dial's completion runs
    drop,        // why: the transport's cause
    restore,     // a new transport is open
    redial,      // before_reconnect runs; data: the next dial's URL, headers: its headers
    disconnect,  // why: the client's end; the last event
    stop,        // the first dial failed (why): the completion runs; the last event
    call,        // call: what call_after runs (request/ack timers, issue 9 §2)
  } what;
  std::string data;
  reason why;
  std::uint64_t transport{};
  header_list headers{};
  std::function<void()> call{};

  bool last() const noexcept { return what == kind::disconnect || what == kind::stop; }
};

/// The I/O thread's events for the callback thread. Messages are queued without waking the
/// consumer; flush() wakes it once per socket read, however many messages that read carried.
/// Messages waiting here are bounded (frames and payload bytes): the producer pauses reading
/// when push_message says so, and the consumer's handled() says when to resume.
class event_queue {
 public:
  event_queue(std::size_t max_frames, std::size_t max_bytes) noexcept
      : max_frames_(max_frames), max_bytes_(max_bytes) {}

  /// Queues a message. True when reading must pause now (the bound is reached and reading is
  /// not paused yet); handled() will then ask for it to resume.
  bool push_message(std::string&& data, std::uint64_t transport, bool reading_paused) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    bytes_ += data.size();
    ++frames_;
    events_.push_back({event::kind::message, std::move(data), {}, transport});
    unflushed_ = true;
    const bool pause = !reading_paused && (frames_ >= max_frames_ || bytes_ >= max_bytes_);
    resume_wanted_ = resume_wanted_ || pause;
    return pause;
  }

  /// Wakes the consumer if messages came since the last flush.
  void flush() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!unflushed_) return;
      unflushed_ = false;
      ready_.store(true, std::memory_order_release);
    }
    cv_.notify_one();
  }

  /// Queues any other event and wakes the consumer. Nothing is queued after the last event.
  void push(event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = e.last();
      unflushed_ = false;
      events_.push_back(std::move(e));
      ready_.store(true, std::memory_order_release);
    }
    cv_.notify_one();
  }

  /// Consumer: waits for events and moves all of them into `batch` (one wake-up, one lock).
  /// Polls for `spin` first: events that come meanwhile need no wake-up (and the producer's
  /// notify finds no waiter, which costs it no system call).
  void take(std::deque<event>& batch, std::chrono::microseconds spin) {
    if (spin.count() > 0 && !ready_.load(std::memory_order_acquire) && gate_.try_now())
      gate_.found(spin_for(spin, [this] { return ready_.load(std::memory_order_acquire); }));
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !events_.empty(); });
    batch.swap(events_);
    ready_.store(false, std::memory_order_relaxed);
  }

  /// Consumer: `frames` messages of `bytes` were handled. True when reading should resume
  /// (it was paused and the queue drained to half its bounds).
  bool handled(std::size_t frames, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    frames_ -= frames;
    bytes_ -= bytes;
    const bool resume = resume_wanted_ && frames_ <= max_frames_ / 2 && bytes_ <= max_bytes_ / 2;
    resume_wanted_ = resume_wanted_ && !resume;
    return resume;
  }

 private:
  const std::size_t max_frames_;
  const std::size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<event> events_;
  std::atomic<bool> ready_{false};  // events were flushed since the last take (spin target)
  spin_gate gate_;                  // the consumer's only
  std::size_t frames_ = 0;          // messages queued and not yet handled
  std::size_t bytes_ = 0;           // their payload bytes
  bool unflushed_ = false;
  bool resume_wanted_ = false;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace wspulse
