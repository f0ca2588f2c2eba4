// wspulse_client — metrics: the Metrics policy (the client's side of the hub's MetricsCollector),
// null_metrics (the default: every call and every measurement compiles away) and
// counting_metrics (atomic counters that any number of clients may share, written out in the
// Prometheus text format by to_prometheus).
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace wspulse {

/// Why a message never reached its destination.
enum class drop_cause : std::uint8_t {
  send_buffer_full,  ///< send() refused it: the send queue was full (send_for: for its timeout)
  decode_failed,     ///< inbound, and the codec could not decode it (or threw)
  too_big,           ///< inbound, over max_message_size: the transport closed with 1009
};

constexpr std::string_view to_string(drop_cause cause) noexcept {
  switch (cause) {
    case drop_cause::send_buffer_full: return "send_buffer_full";
    case drop_cause::decode_failed: return "decode_failed";
    case drop_cause::too_big: return "too_big";
  }
  return "unknown";
}

/// The Metrics policy (basic_client's 7th parameter), a value in the options
/// (options::metrics(m)): copies are made, so let copies share their counters. It is called
///   - on the I/O thread: connection_opened, connection_closed, reconnect_attempt,
///     message_sent, message_received, message_dropped(too_big), heartbeat_failed,
///     pong_received, and send_queue_depth after a write;
///   - on the thread calling send(): message_dropped(send_buffer_full), and send_queue_depth
///     after an accepted frame (so depths from several threads may arrive out of order);
///   - where the callbacks run: message_dropped(decode_failed).
/// Hooks must be thread-safe and must not block; one that throws loses that figure only.
/// `enabled = false` compiles every hook call, and the clock reads behind it, out.
struct null_metrics {
  static constexpr bool enabled = false;
  /// A transport opened; `handshake`: from the dial's start (name lookup, TCP, TLS, upgrade).
  void connection_opened(std::chrono::microseconds /*handshake*/) noexcept {}
  /// An open transport ended after `duration`, for `why` (on_transport_drop's reason).
  void connection_closed(std::chrono::microseconds /*duration*/, const reason& /*why*/) noexcept {}
  /// Redial `attempt` (1 = the first of this outage) starts after `delay`.
  void reconnect_attempt(unsigned /*attempt*/, std::chrono::milliseconds /*delay*/) noexcept {}
  /// A frame of `bytes` (as encoded) was written to the socket.
  void message_sent(std::size_t /*bytes*/) noexcept {}
  /// A message of `bytes` (before decoding) was read.
  void message_received(std::size_t /*bytes*/) noexcept {}
  void message_dropped(drop_cause /*cause*/) noexcept {}
  /// Frames accepted and not yet written, of the send queue's `capacity`.
  void send_queue_depth(std::size_t /*queued*/, std::size_t /*capacity*/) noexcept {}
  /// Nothing arrived for pong_wait: the transport is dropped with heartbeat_timeout.
  void heartbeat_failed() noexcept {}
  /// The pong to the client's ping came back after `round_trip`.
  void pong_received(std::chrono::microseconds /*round_trip*/) noexcept {}
};

namespace detail {
template <class Metrics, class = void>
struct is_metrics_policy : std::false_type {};
template <class Metrics>
struct is_metrics_policy<Metrics, std::void_t<decltype(Metrics::enabled)>> : std::true_type {};

// A close's reason as a metrics label slot: 0 = a clean close, 1.. = a wspulse errc, and one
// slot for every other error category.
inline constexpr std::size_t reason_slots = 24;
inline std::size_t reason_slot(const reason& why) noexcept {
  if (!why) return 0;
  if (why.code.category() != error_category()) return reason_slots - 1;
  const int v = why.code.value();
  return v > 0 && static_cast<std::size_t>(v) < reason_slots - 1 ? static_cast<std::size_t>(v)
                                                                 : reason_slots - 1;
}
}  // namespace detail

/// A ready Metrics type: lock-free counters shared by every copy (one per client, or one for
/// many clients), read with snapshot() and written out with to_prometheus().
class counting_metrics {
 public:
  static constexpr bool enabled = true;
  using slot_counts = std::array<std::uint64_t, detail::reason_slots>;

  /// The figures at one moment (each read on its own: a snapshot under traffic is not atomic).
  struct snapshot {
    std::uint64_t connections_opened = 0;
    std::uint64_t handshake_us_total = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t connected_us_total = 0;
    slot_counts closed_by_reason{};  // index: detail::reason_slot
    std::uint64_t reconnect_attempts = 0;
    std::uint64_t reconnect_delay_ms_total = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t bytes_received = 0;
    std::array<std::uint64_t, 3> dropped{};  // index: drop_cause
    std::uint64_t send_queue_depth = 0;      // the last one reported
    std::uint64_t send_queue_depth_max = 0;
    std::uint64_t send_queue_capacity = 0;
    std::uint64_t heartbeat_failures = 0;
    std::uint64_t pongs = 0;
    std::uint64_t ping_rtt_us_total = 0;
    std::uint64_t ping_rtt_us_last = 0;
    std::uint64_t ping_rtt_us_max = 0;
  };

  snapshot read() const noexcept;

  void connection_opened(std::chrono::microseconds handshake) noexcept {
    add(c_->connections_opened, 1);
    add(c_->handshake_us, count_of(handshake));
  }
  void connection_closed(std::chrono::microseconds duration, const reason& why) noexcept {
    add(c_->connections_closed, 1);
    add(c_->connected_us, count_of(duration));
    add(c_->closed_by_reason[detail::reason_slot(why)], 1);
  }
  void reconnect_attempt(unsigned, std::chrono::milliseconds delay) noexcept {
    add(c_->reconnect_attempts, 1);
    add(c_->reconnect_delay_ms, static_cast<std::uint64_t>(delay.count() < 0 ? 0 : delay.count()));
  }
  void message_sent(std::size_t bytes) noexcept {
    add(c_->messages_sent, 1);
    add(c_->bytes_sent, bytes);
  }
  void message_received(std::size_t bytes) noexcept {
    add(c_->messages_received, 1);
    add(c_->bytes_received, bytes);
  }
  void message_dropped(drop_cause cause) noexcept {
    add(c_->dropped[static_cast<std::size_t>(cause)], 1);
  }
  void send_queue_depth(std::size_t queued, std::size_t capacity) noexcept {
    c_->queue_depth.store(queued, std::memory_order_relaxed);
    c_->queue_capacity.store(capacity, std::memory_order_relaxed);
    raise(c_->queue_depth_max, queued);
  }
  void heartbeat_failed() noexcept { add(c_->heartbeat_failures, 1); }
  void pong_received(std::chrono::microseconds round_trip) noexcept {
    const std::uint64_t us = count_of(round_trip);
    add(c_->pongs, 1);
    add(c_->ping_rtt_us, us);
    c_->ping_rtt_us_last.store(us, std::memory_order_relaxed);
    raise(c_->ping_rtt_us_max, us);
  }

 private:
  using counter = std::atomic<std::uint64_t>;
  struct counters {
    counter connections_opened{0}, handshake_us{0}, connections_closed{0}, connected_us{0};
    std::array<counter, detail::reason_slots> closed_by_reason{};
    counter reconnect_attempts{0}, reconnect_delay_ms{0};
    counter messages_sent{0}, bytes_sent{0}, messages_received{0}, bytes_received{0};
    std::array<counter, 3> dropped{};
    counter queue_depth{0}, queue_depth_max{0}, queue_capacity{0};
    counter heartbeat_failures{0}, pongs{0}, ping_rtt_us{0}, ping_rtt_us_last{0},
        ping_rtt_us_max{0};
  };
  static void add(counter& c, std::uint64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  static void raise(counter& c, std::uint64_t v) noexcept {
    std::uint64_t seen = c.load(std::memory_order_relaxed);
    while (seen < v && !c.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
    }
  }
  template <class Duration>
  static std::uint64_t count_of(Duration d) noexcept {
    return d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
  }

  std::shared_ptr<counters> c_ = std::make_shared<counters>();
};

inline counting_metrics::snapshot counting_metrics::read() const noexcept {
  const auto get = [](const counter& c) { return c.load(std::memory_order_relaxed); };
  snapshot s;
  s.connections_opened = get(c_->connections_opened);
  s.handshake_us_total = get(c_->handshake_us);
  s.connections_closed = get(c_->connections_closed);
  s.connected_us_total = get(c_->connected_us);
  for (std::size_t i = 0; i < s.closed_by_reason.size(); ++i)
    s.closed_by_reason[i] = get(c_->closed_by_reason[i]);
  s.reconnect_attempts = get(c_->reconnect_attempts);
  s.reconnect_delay_ms_total = get(c_->reconnect_delay_ms);
  s.messages_sent = get(c_->messages_sent);
  s.bytes_sent = get(c_->bytes_sent);
  s.messages_received = get(c_->messages_received);
  s.bytes_received = get(c_->bytes_received);
  for (std::size_t i = 0; i < s.dropped.size(); ++i) s.dropped[i] = get(c_->dropped[i]);
  s.send_queue_depth = get(c_->queue_depth);
  s.send_queue_depth_max = get(c_->queue_depth_max);
  s.send_queue_capacity = get(c_->queue_capacity);
  s.heartbeat_failures = get(c_->heartbeat_failures);
  s.pongs = get(c_->pongs);
  s.ping_rtt_us_total = get(c_->ping_rtt_us);
  s.ping_rtt_us_last = get(c_->ping_rtt_us_last);
  s.ping_rtt_us_max = get(c_->ping_rtt_us_max);
  return s;
}

/// The snapshot in the Prometheus text exposition format (0.0.4): counters `<prefix>_…_total`,
/// durations as summaries in seconds (`_sum`, `_count`), closes labelled by reason (the
/// reason's message; "closed" for close()), drops by cause. `prefix` must be a valid metric
/// name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*); it is written as given.
std::string to_prometheus(const counting_metrics::snapshot& s,
                          std::string_view prefix = "wspulse_client");

}  // namespace wspulse

#include "impl/metrics.hpp"
