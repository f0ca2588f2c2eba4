// wspulse_client — compile-time policies: reconnect backoff, heartbeat, buffer bounds, where
// callbacks run.
// Policies fix the strategy, the defaults and the ceilings; options may tune values at run
// time within them. Out-of-range template arguments fail with a static_assert naming the rule.
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <type_traits>

namespace wspulse {

using std::chrono::milliseconds;

/// The limits of behaviour.md § Limits, shared by static_asserts and option setters.
namespace limits {
inline constexpr std::int64_t max_ping_ms = 60'000;
inline constexpr std::int64_t max_pong_ms = 120'000;
inline constexpr std::int64_t max_write_ms = 30'000;
inline constexpr std::int64_t max_base_delay_ms = 60'000;
inline constexpr std::int64_t max_max_delay_ms = 300'000;
inline constexpr unsigned max_retries = 32;
inline constexpr std::size_t min_send_frames = 1;
inline constexpr std::size_t max_send_frames = 4096;
inline constexpr std::size_t max_message_bytes = std::size_t{64} << 20;
inline constexpr std::size_t max_inbound_bytes = std::size_t{1} << 30;
inline constexpr std::size_t max_pending_requests = 65536;
}  // namespace limits

namespace detail {
/// The wspulse formula's cap: min(base * 2^min(attempt, 62), max), clamping on overflow.
constexpr std::int64_t backoff_ceiling_ms(unsigned attempt, std::int64_t base_ms,
                                          std::int64_t max_ms) noexcept {
  const unsigned shift = attempt < 62 ? attempt : 62;
  if (base_ms > (max_ms >> shift)) return max_ms;  // base << shift would exceed max (or overflow)
  const std::int64_t full = base_ms << shift;
  return full < max_ms ? full : max_ms;
}

/// Uniform integer in [lo, hi] from any UniformRandomBitGenerator.
template <class Rng>
std::int64_t uniform_ms(Rng& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}
}  // namespace detail

/// The wspulse reconnect schedule: delay before attempt `a` is uniform in [full/2, full], where
/// full = min(base * 2^min(a, 62), max). `MaxRetries` 0 = unlimited.
template <unsigned MaxRetries = 0, std::int64_t BaseMs = 1000, std::int64_t MaxMs = 30000>
struct exponential_backoff {
  static_assert(MaxRetries <= limits::max_retries,
                "wspulse: max_retries must be in [0, 32] (0 = unlimited)");
  static_assert(BaseMs > 0 && BaseMs <= limits::max_base_delay_ms,
                "wspulse: base_delay must be in (0, 1 min]");
  static_assert(MaxMs >= BaseMs && MaxMs <= limits::max_max_delay_ms,
                "wspulse: max_delay must be in [base_delay, 5 min]");

  static constexpr bool enabled = true;
  static constexpr unsigned max_retries = MaxRetries;
  static constexpr milliseconds base_delay{BaseMs};
  static constexpr milliseconds max_delay{MaxMs};

  template <class Rng>
  static milliseconds delay(unsigned attempt, milliseconds base, milliseconds max, Rng& rng) {
    const std::int64_t full = detail::backoff_ceiling_ms(attempt, base.count(), max.count());
    return milliseconds{detail::uniform_ms(rng, full / 2, full)};
  }
};

/// AWS "full jitter": uniform in [0, full]; spreads a thundering herd wider than the default.
template <unsigned MaxRetries = 0, std::int64_t BaseMs = 1000, std::int64_t MaxMs = 30000>
struct full_jitter_backoff : exponential_backoff<MaxRetries, BaseMs, MaxMs> {
  template <class Rng>
  static milliseconds delay(unsigned attempt, milliseconds base, milliseconds max, Rng& rng) {
    return milliseconds{
        detail::uniform_ms(rng, 0, detail::backoff_ceiling_ms(attempt, base.count(), max.count()))};
  }
};

/// AWS "decorrelated jitter", made stateless: uniform in [base, min(max, 3 * ceiling(a-1))].
template <unsigned MaxRetries = 0, std::int64_t BaseMs = 1000, std::int64_t MaxMs = 30000>
struct decorrelated_jitter_backoff : exponential_backoff<MaxRetries, BaseMs, MaxMs> {
  template <class Rng>
  static milliseconds delay(unsigned attempt, milliseconds base, milliseconds max, Rng& rng) {
    const std::int64_t prev =
        attempt == 0 ? base.count()
                     : detail::backoff_ceiling_ms(attempt - 1, base.count(), max.count());
    const std::int64_t hi = prev > max.count() / 3 ? max.count() : prev * 3;
    return milliseconds{
        detail::uniform_ms(rng, base.count(), hi < base.count() ? base.count() : hi)};
  }
};

/// Compiles the reconnect machinery out; options::auto_reconnect() does not compile with it.
struct no_reconnect {
  static constexpr bool enabled = false;
  static constexpr unsigned max_retries = 0;
  static constexpr milliseconds base_delay{1000};
  static constexpr milliseconds max_delay{30000};
  template <class Rng>
  static milliseconds delay(unsigned, milliseconds base, milliseconds, Rng&) {
    return base;
  }
};

/// Client-side heartbeat: ping every PingMs; drop when nothing arrived for PongMs; every write
/// must complete within WriteMs.
template <std::int64_t PingMs = 20000, std::int64_t PongMs = 60000, std::int64_t WriteMs = 10000>
struct heartbeat {
  static_assert(PingMs > 0 && PingMs <= limits::max_ping_ms,
                "wspulse: ping_period must be in (0, 1 min]");
  static_assert(PongMs > PingMs && PongMs <= limits::max_pong_ms,
                "wspulse: pong_wait must be in (ping_period, 2 min]");
  static_assert(WriteMs > 0 && WriteMs <= limits::max_write_ms,
                "wspulse: write_wait must be in (0, 30 s]");

  static constexpr bool enabled = true;
  static constexpr milliseconds ping_period{PingMs};
  static constexpr milliseconds pong_wait{PongMs};
  static constexpr milliseconds write_wait{WriteMs};
};

/// Sends no pings and runs no liveness check (server pings are still answered); writes keep
/// their WriteMs deadline.
template <std::int64_t WriteMs = 10000>
struct basic_no_heartbeat {
  static_assert(WriteMs > 0 && WriteMs <= limits::max_write_ms,
                "wspulse: write_wait must be in (0, 30 s]");
  static constexpr bool enabled = false;
  static constexpr milliseconds ping_period{20000};
  static constexpr milliseconds pong_wait{60000};
  static constexpr milliseconds write_wait{WriteMs};
};
using no_heartbeat = basic_no_heartbeat<>;

/// Memory bounds. SendFrames: send queue capacity (fixed). MaxMessageBytes: default inbound
/// message limit (0 = none). InboundFrames and InboundBytes: received messages (count, and
/// payload bytes) that may wait for a slow on_message; when either is reached the client stops
/// reading (TCP back-pressure) until the handler has worked through half of them. One message
/// larger than InboundBytes is still delivered: reading pauses after it. PendingRequests:
/// requests (request()) waiting for their answer at once; one more fails at once with
/// errc::too_many_requests.
template <std::size_t SendFrames = 256, std::size_t MaxMessageBytes = std::size_t{1} << 20,
          std::size_t InboundFrames = 1024, std::size_t InboundBytes = std::size_t{16} << 20,
          std::size_t PendingRequests = 256>
struct buffer_bounds {
  static_assert(SendFrames >= limits::min_send_frames && SendFrames <= limits::max_send_frames,
                "wspulse: the send buffer must hold [1, 4096] frames");
  static_assert(MaxMessageBytes <= limits::max_message_bytes,
                "wspulse: max_message_size must be in [0, 64 MiB] (0 = no limit)");
  static_assert(InboundFrames >= 1, "wspulse: at least one inbound frame must be able to wait");
  static_assert(InboundBytes >= 1 && InboundBytes <= limits::max_inbound_bytes,
                "wspulse: the inbound byte bound must be in [1, 1 GiB]");
  static_assert(PendingRequests >= 1 && PendingRequests <= limits::max_pending_requests,
                "wspulse: the pending request bound must be in [1, 65536]");

  static constexpr std::size_t send_frames = SendFrames;
  static constexpr std::size_t max_message_bytes = MaxMessageBytes;
  static constexpr std::size_t inbound_frames = InboundFrames;
  static constexpr std::size_t inbound_bytes = InboundBytes;
  static constexpr std::size_t pending_requests = PendingRequests;
};

/// Callbacks on a thread of the client's own: a handler may block for seconds and the client
/// still answers pings and keeps writing; inbound frames wait for it in a bounded queue
/// (Bounds::inbound_frames / inbound_bytes), reading pauses when it is full. One extra thread
/// per client, and one hand-off per socket read.
///
/// SpinMicros: after work, the callback thread, and the client's own I/O thread (not an
/// application's io_context), poll for this long before they sleep. A message answered from its
/// handler then crosses the two threads without waking either (a wake-up costs 5-50 us, by
/// machine); the price is up to 2 x SpinMicros of CPU after each burst of traffic. 0: never.
template <unsigned SpinMicros>
struct basic_callback_thread {
  static_assert(SpinMicros <= 10000, "wspulse: spin at most 10 ms before sleeping");
  static constexpr bool runs_inline = false;
  static constexpr std::chrono::microseconds spin{SpinMicros};
};

/// The default Dispatch: callbacks on a thread of the client's own, spinning 50 us.
using callback_thread = basic_callback_thread<50>;

/// Callbacks inline, on the thread running the client's io_context: no thread hop, no queue,
/// no extra thread (many clients on one thread). Handlers must not block: while one runs, no
/// client on that io_context reads, writes or answers a ping.
struct inline_callbacks {
  static constexpr bool runs_inline = true;
};

namespace detail {
template <class Dispatch, class = void>
struct is_dispatch_policy : std::false_type {};
template <class Dispatch>
struct is_dispatch_policy<Dispatch, std::void_t<decltype(Dispatch::runs_inline)>> : std::true_type {
};

/// Dispatch::spin, or no spinning for a Dispatch type that has none.
template <class Dispatch, class = void>
struct spin_of {
  static constexpr std::chrono::microseconds value{0};
};
template <class Dispatch>
struct spin_of<Dispatch, std::void_t<decltype(Dispatch::spin)>> {
  static constexpr std::chrono::microseconds value{Dispatch::spin};
};
}  // namespace detail

namespace detail {
/// Bounds::inbound_bytes, or buffer_bounds' default for a Bounds type written before it existed.
template <class Bounds, class = void>
struct inbound_bytes_of : std::integral_constant<std::size_t, std::size_t{16} << 20> {};
template <class Bounds>
struct inbound_bytes_of<Bounds, std::void_t<decltype(Bounds::inbound_bytes)>>
    : std::integral_constant<std::size_t, Bounds::inbound_bytes> {};

/// Bounds::pending_requests, or buffer_bounds' default for a Bounds type written before it.
template <class Bounds, class = void>
struct pending_requests_of : std::integral_constant<std::size_t, 256> {};
template <class Bounds>
struct pending_requests_of<Bounds, std::void_t<decltype(Bounds::pending_requests)>>
    : std::integral_constant<std::size_t, Bounds::pending_requests> {};
}  // namespace detail

}  // namespace wspulse
