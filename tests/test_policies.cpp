// wspulse_client tests — policies: the wspulse backoff formula bit for bit, the jitter
// variants' bounds and spread, defaults and limits. Pure functions with a seeded generator.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include <algorithm>
#include <cstdint>
#include <random>

using namespace std::chrono_literals;
using wspulse::milliseconds;
using wspulse::detail::backoff_ceiling_ms;

namespace {

struct spread {
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  void add(std::int64_t v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

template <class Policy>
spread sample(unsigned attempt, milliseconds base, milliseconds max, int n = 4000) {
  std::mt19937_64 rng(12345 + attempt);
  spread s;
  for (int i = 0; i < n; ++i) s.add(Policy::delay(attempt, base, max, rng).count());
  return s;
}

}  // namespace

TEST_SUITE("policies") {
  TEST_CASE("ceiling: min(base * 2^min(attempt, 62), max), clamping on overflow") {
    CHECK(backoff_ceiling_ms(0, 1000, 30000) == 1000);
    CHECK(backoff_ceiling_ms(1, 1000, 30000) == 2000);
    CHECK(backoff_ceiling_ms(4, 1000, 30000) == 16000);
    CHECK(backoff_ceiling_ms(5, 1000, 30000) == 30000);  // 32000 clamps to max
    CHECK(backoff_ceiling_ms(61, 1000, 30000) == 30000);
    CHECK(backoff_ceiling_ms(62, 1000, 30000) == 30000);
    CHECK(backoff_ceiling_ms(63, 1000, 30000) == 30000);  // min(a, 62): no shift past 62
    CHECK(backoff_ceiling_ms(4000000000u, 60000, 300000) == 300000);
    CHECK(backoff_ceiling_ms(62, 1, 300000) == 300000);  // 2^62 ms overflows nothing: clamps
    CHECK(backoff_ceiling_ms(3, 7, 1000) == 56);
    CHECK(backoff_ceiling_ms(0, 5, 5) == 5);
  }

  TEST_CASE("exponential_backoff: uniform in [full/2, full], the first retry in [base/2, base]") {
    using policy = wspulse::exponential_backoff<>;
    for (unsigned a : {0u, 1u, 2u, 4u, 5u, 10u, 62u, 100u}) {
      CAPTURE(a);
      const std::int64_t full = backoff_ceiling_ms(a, 1000, 30000);
      const spread s = sample<policy>(a, 1000ms, 30000ms);
      CHECK(s.lo >= full / 2);
      CHECK(s.hi <= full);
      // The whole interval is used (4,000 draws leave no gap wider than 2 % at either end).
      CHECK(s.lo <= full / 2 + full / 50 + 1);
      CHECK(s.hi >= full - full / 50 - 1);
    }
    const spread first = sample<policy>(0, 200ms, 800ms);
    CHECK(first.lo >= 100);
    CHECK(first.hi <= 200);
  }

  TEST_CASE("full_jitter_backoff: uniform in [0, full]") {
    using policy = wspulse::full_jitter_backoff<>;
    for (unsigned a : {0u, 3u, 20u}) {
      CAPTURE(a);
      const std::int64_t full = backoff_ceiling_ms(a, 100, 5000);
      const spread s = sample<policy>(a, 100ms, 5000ms);
      CHECK(s.lo >= 0);
      CHECK(s.hi <= full);
      CHECK(s.lo <= full / 50 + 1);
      CHECK(s.hi >= full - full / 50 - 1);
    }
  }

  TEST_CASE("decorrelated_jitter_backoff: in [base, min(max, 3 * previous ceiling)]") {
    using policy = wspulse::decorrelated_jitter_backoff<>;
    const spread first = sample<policy>(0, 100ms, 5000ms);
    CHECK(first.lo >= 100);
    CHECK(first.hi <= 300);
    const spread later = sample<policy>(3, 100ms, 5000ms);  // previous ceiling 400 → ≤ 1200
    CHECK(later.lo >= 100);
    CHECK(later.hi <= 1200);
    const spread capped = sample<policy>(40, 100ms, 5000ms);
    CHECK(capped.hi <= 5000);
    CHECK(capped.hi >= 4900);
  }

  TEST_CASE("policy values and defaults") {
    CHECK(wspulse::exponential_backoff<>::enabled);
    CHECK(wspulse::exponential_backoff<>::max_retries == 0);
    CHECK(wspulse::exponential_backoff<>::base_delay == 1s);
    CHECK(wspulse::exponential_backoff<>::max_delay == 30s);
    CHECK(wspulse::exponential_backoff<5, 200, 800>::max_retries == 5);
    CHECK_FALSE(wspulse::no_reconnect::enabled);
    CHECK(wspulse::heartbeat<>::ping_period == 20s);
    CHECK(wspulse::heartbeat<>::pong_wait == 60s);
    CHECK(wspulse::heartbeat<>::write_wait == 10s);
    CHECK_FALSE(wspulse::no_heartbeat::enabled);
    CHECK(wspulse::no_heartbeat::write_wait == 10s);
    CHECK(wspulse::buffer_bounds<>::send_frames == 256);
    CHECK(wspulse::buffer_bounds<>::max_message_bytes == (1u << 20));
    CHECK(wspulse::buffer_bounds<1, 0>::max_message_bytes == 0);
    CHECK(wspulse::buffer_bounds<4096, std::size_t{64} << 20>::send_frames == 4096);
  }

  TEST_CASE("dispatch: the callback thread spins 50 us by default; 0 never spins") {
    CHECK_FALSE(wspulse::callback_thread::runs_inline);
    CHECK(wspulse::detail::spin_of<wspulse::callback_thread>::value == 50us);
    CHECK(wspulse::detail::spin_of<wspulse::basic_callback_thread<0>>::value == 0us);
    CHECK(wspulse::detail::spin_of<wspulse::basic_callback_thread<300>>::value == 300us);
    CHECK(wspulse::detail::spin_of<wspulse::inline_callbacks>::value == 0us);  // has no spin
  }

  TEST_CASE("spin_gate: after a fruitless spin the next 1, 2, 4 ... 64 waits skip it") {
    wspulse::detail::spin_gate gate;
    auto skipped_before_next_spin = [&gate] {
      int skipped = 0;
      while (!gate.try_now()) ++skipped;
      return skipped;
    };
    CHECK(skipped_before_next_spin() == 0);  // a fresh gate spins
    for (int expect : {1, 2, 4, 8, 16, 32, 64, 64}) {
      gate.found(false);
      CHECK(skipped_before_next_spin() == expect);
    }
    gate.found(true);  // work found: spin every time again
    CHECK(skipped_before_next_spin() == 0);
    gate.found(true);
    CHECK(skipped_before_next_spin() == 0);
    gate.found(false);
    CHECK(skipped_before_next_spin() == 1);  // and the doubling starts over
  }

  TEST_CASE("spin_for: true as soon as ready, false once the time is up") {
    int polls = 0;
    CHECK(wspulse::detail::spin_for(10000000us, [&] { return ++polls == 3; }));  // returns at once
    CHECK(polls == 3);
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(wspulse::detail::spin_for(2000us, [] { return false; }));
    CHECK(std::chrono::steady_clock::now() - started >= 2000us);
    polls = 0;
    CHECK_FALSE(wspulse::detail::spin_for(0us, [&] { return ++polls > 1; }));
    CHECK(polls == 1);  // no time: one look
  }

  TEST_CASE("the send queue keeps FIFO order across wrap-around and frees what it pops") {
    wspulse::detail::send_queue<3> q;
    CHECK(q.empty());
    q.push("a");
    q.push("b");
    q.push("c");
    CHECK(q.full());
    q.pop(2);
    q.push("d");
    q.push("e");
    CHECK(q.full());
    CHECK(q.at(0) == "c");
    CHECK(q.at(1) == "d");
    CHECK(q.at(2) == "e");
    q.pop(5);  // more than held: empties, no underflow
    CHECK(q.empty());
  }

  TEST_CASE("the send queue keeps FIFO order across blocks and a wrap; slots never move") {
    wspulse::detail::send_queue<40> q;  // three blocks of 16 slots (the last one partly used)
    for (int i = 0; i < 30; ++i) q.push(std::to_string(i));
    const std::string* fifth = &q.at(4);
    q.pop(20);  // the ring's head moves into the second block
    for (int i = 30; i < 60; ++i) q.push(std::to_string(i));  // wraps to slot 0 again
    REQUIRE(q.full());
    for (std::size_t i = 0; i < q.size(); ++i) CHECK(q.at(i) == std::to_string(20 + i));
    CHECK(fifth == &q.at(24));  // physical slot 4, reused in place: storage never moves
    CHECK(q.at(24) == "44");
  }
}
