// wspulse_client — the pending requests of request() / request_keyed(): a bounded,
// thread-safe table that tells an answer from the request's own echo, fails requests on a
// drop, a close or a timeout, and completes each exactly once.
//
// Threads: add(), withdraw() and unique_id() run on user threads; answer(), fail_all(),
// close() and wake() on the client's callback thread (inside its callbacks). Completions run
// on the callback thread, never under the table's lock.
// SPDX-License-Identifier: MIT
#pragma once

#include "../error.hpp"
#include "../frame.hpp"

#include <algorithm>  // std::max
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wspulse {
namespace detail {

class request_table {
 public:
  using clock = std::chrono::steady_clock;
  /// Runs once: with the answer (failure empty), or with why the request failed.
  using completion = std::function<void(const reason& failure, const frame& answer)>;
  using key_extractor = std::function<std::string(const frame&)>;
  /// The frame as the codec reads it back after writing it (what the server echoes), or the
  /// codec's encode error.
  using echo_reader = std::function<std::error_code(const frame& f, frame& as_read)>;

  /// by_id: the answer carries the request's id. by_key: answer_key(answer) returns the key.
  enum class match : std::uint8_t { by_id, by_key };

  struct admission {
    std::error_code refused;                ///< set: nothing was registered
    std::optional<clock::time_point> wake;  ///< a timer must wake wake() at this time
  };

  request_table(std::size_t capacity, key_extractor answer_key, echo_reader read_back)
      : capacity_(capacity), answer_key_(std::move(answer_key)), read_back_(std::move(read_back)) {
    std::random_device entropy;
    const std::uint64_t bits = (std::uint64_t{entropy()} << 32) ^ entropy();
    static constexpr char hex[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) id_prefix_ += hex[(bits >> shift) & 0xF];
    id_prefix_ += '-';
  }

  /// An id no other client in the room is likely to use: the answer of another client's
  /// request must never match one of ours.
  std::string unique_id() { return id_prefix_ + std::to_string(++ids_); }

  bool has_answer_key() const noexcept { return static_cast<bool>(answer_key_); }

  /// What the server echoes of `f`; an encode error when `f` cannot be sent.
  std::error_code echo_of(const frame& f, frame& echo) const {
    if (!read_back_) {
      echo = f;
      return {};
    }
    return read_back_(f, echo);
  }

  /// Registers a request, before its frame is sent (an answer may come at once). `echo`
  /// (by_id): the request as the server echoes it back; a frame equal to it is no answer.
  admission add(match how, const std::string& key, frame echo, clock::duration timeout,
                completion done) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return {errc::connection_closed, std::nullopt};
    if (pending_.load(std::memory_order_relaxed) >= capacity_)
      return {errc::too_many_requests, std::nullopt};
    auto& table = how == match::by_id ? by_id_ : by_key_;
    const clock::time_point deadline = clock::now() + timeout;
    if (!table.emplace(key, entry{std::move(echo), deadline, std::move(done)}).second)
      return {errc::duplicate_request, std::nullopt};
    count(how, +1);
    if (!wakes_.empty() && *wakes_.begin() <= deadline) return {{}, std::nullopt};
    wakes_.insert(deadline);  // no earlier wake-up is scheduled: the caller schedules this one
    return {{}, deadline};
  }

  /// Takes back a request whose frame could not be sent. False when it completed already
  /// (the client finished meanwhile): its completion ran, or runs, with that reason.
  bool withdraw(match how, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& table = how == match::by_id ? by_id_ : by_key_;
    if (table.erase(key) == 0) return false;
    count(how, -1);
    return true;
  }

  /// An inbound frame: completes the request it answers and returns true (the frame is
  /// consumed), or returns false (an echo, a late answer, anything else: for on_message).
  bool answer(const frame& f) {
    if (pending_.load(std::memory_order_acquire) == 0) return false;
    std::optional<entry> hit = take_by_id(f);
    if (!hit && keyed_.load(std::memory_order_acquire) > 0 && answer_key_) {
      const std::string key = answer_key_(f);  // user code: outside the lock
      if (!key.empty()) hit = take(match::by_key, key);
    }
    if (!hit) return false;
    hit->done(reason{}, f);
    return true;
  }

  /// A drop: every pending request fails with its reason (its answer may be lost with the
  /// transport; whether to retry is the application's choice). The drop of a close() has no
  /// error: errc::connection_closed then, as for the disconnect that follows.
  void fail_all(const reason& why) {
    fail(take_all(false), why ? why : reason(errc::connection_closed));
  }

  /// The client finished: every pending request fails with the disconnect reason
  /// (errc::connection_closed for a close()), and new ones are refused.
  void close(const reason& why) {
    fail(take_all(true), why ? why : reason(errc::connection_closed));
  }

  /// A timer scheduled for `scheduled` fired: requests past their deadline fail with
  /// errc::request_timeout. Returns when the next wake-up must be scheduled, if one must.
  std::optional<clock::time_point> wake(clock::time_point scheduled) {
    std::vector<entry> expired;
    std::optional<clock::time_point> next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = wakes_.find(scheduled); it != wakes_.end()) wakes_.erase(it);
      const clock::time_point now = std::max(clock::now(), scheduled);
      std::optional<clock::time_point> earliest;
      for (match how : {match::by_id, match::by_key}) {
        auto& table = how == match::by_id ? by_id_ : by_key_;
        for (auto it = table.begin(); it != table.end();) {
          if (it->second.deadline <= now) {
            expired.push_back(std::move(it->second));
            it = table.erase(it);
            count(how, -1);
            continue;
          }
          if (!earliest || it->second.deadline < *earliest) earliest = it->second.deadline;
          ++it;
        }
      }
      if (earliest && !closed_ && (wakes_.empty() || *earliest < *wakes_.begin())) {
        wakes_.insert(*earliest);
        next = earliest;
      }
    }
    fail(std::move(expired), reason(errc::request_timeout));
    return next;
  }

  /// Requests waiting for their answer right now.
  std::size_t pending() const noexcept { return pending_.load(std::memory_order_acquire); }

 private:
  struct entry {
    frame echo;
    clock::time_point deadline;
    completion done;
  };

  // mu_ held.
  void count(match how, int delta) {
    pending_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_release);
    if (how == match::by_key) keyed_.fetch_add(static_cast<std::size_t>(delta));
  }

  std::optional<entry> take_by_id(const frame& f) {
    if (f.id.empty()) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = by_id_.find(f.id);
    // The room echo of the request itself (the hub and the test server send every frame back
    // to its sender too) carries the same id: it is not the answer.
    if (it == by_id_.end() || it->second.echo == f) return std::nullopt;
    entry hit = std::move(it->second);
    by_id_.erase(it);
    count(match::by_id, -1);
    return hit;
  }

  std::optional<entry> take(match how, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& table = how == match::by_id ? by_id_ : by_key_;
    const auto it = table.find(key);
    if (it == table.end()) return std::nullopt;
    entry hit = std::move(it->second);
    table.erase(it);
    count(how, -1);
    return hit;
  }

  std::vector<entry> take_all(bool closing) {
    std::vector<entry> out;
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = closed_ || closing;
    for (match how : {match::by_id, match::by_key}) {
      auto& table = how == match::by_id ? by_id_ : by_key_;
      for (auto& item : table) out.push_back(std::move(item.second));
      for (std::size_t i = 0; i < table.size(); ++i) count(how, -1);
      table.clear();
    }
    if (closing) wakes_.clear();
    return out;
  }

  // Runs every completion, even when one throws; the first exception then goes on to the
  // client, which treats it as it treats one from the callback that ran this.
  static void fail(std::vector<entry> failed, const reason& why) {
    std::exception_ptr first;
    for (auto& e : failed) {
      try {
        e.done(why, frame{});
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
  }

  const std::size_t capacity_;
  const key_extractor answer_key_;
  const echo_reader read_back_;
  std::string id_prefix_;
  std::atomic<std::uint64_t> ids_{0};

  std::mutex mu_;
  std::unordered_map<std::string, entry> by_id_;
  std::unordered_map<std::string, entry> by_key_;
  std::multiset<clock::time_point> wakes_;  // wake-ups scheduled and not yet run
  bool closed_ = false;
  std::atomic<std::size_t> pending_{0};  // by_id_ + by_key_, for the lock-free fast path
  std::atomic<std::size_t> keyed_{0};    // by_key_
};

/// Creates the request table of a client about to be dialled with `opts`, and routes the
/// client's inbound frames, drops and disconnect through it first (the answer of a request
/// never reaches on_message; failed requests complete before the user's callback runs).
template <class Bounds, class Options>
std::shared_ptr<request_table> attach_request_table(Options& opts) {
  request_table::echo_reader read_back;
  using codec_type = std::decay_t<decltype(opts.codec())>;
  if constexpr (std::is_copy_constructible_v<codec_type>) {
    read_back = [codec = opts.codec()](const frame& f, frame& as_read) {
      std::string wire;
      std::error_code ec;
      codec.encode(f, wire, ec);
      if (!ec) codec.decode(wire, as_read, ec);
      return ec;
    };
  }
  auto table = std::make_shared<request_table>(pending_requests_of<Bounds>::value,
                                               opts.answer_key_callback(), std::move(read_back));
  opts.on_message([table, user = opts.message_callback()](const frame& f) {
    if (!table->answer(f) && user) user(f);
  });
  // A request handler that throws does not keep the user's callback from running.
  opts.on_transport_drop([table, user = opts.drop_callback()](const reason& why) {
    std::exception_ptr failed;
    try {
      table->fail_all(why);
    } catch (...) {
      failed = std::current_exception();
    }
    if (user) user(why);
    if (failed) std::rethrow_exception(failed);
  });
  opts.on_disconnect([table, user = opts.disconnect_callback()](const reason& why) {
    std::exception_ptr failed;
    try {
      table->close(why);
    } catch (...) {
      failed = std::current_exception();
    }
    if (user) user(why);
    if (failed) std::rethrow_exception(failed);
  });
  return table;
}

}  // namespace detail
}  // namespace wspulse
