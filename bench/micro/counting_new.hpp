// wspulse_client micro-benchmarks — heap allocations per operation, counted through a replaced
// global operator new. Include it in exactly one translation unit per program (each
// micro-benchmark is one), since it defines the replacement operators.
// SPDX-License-Identifier: MIT
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace wspulse {
namespace bench {

// A plain counter: the benchmarks run on one thread, and an atomic increment would add its own
// cost to every allocation measured.
inline std::size_t allocation_count = 0;

// Publishes "allocs/op": the allocations since `before`, per iteration of `state`.
inline void report_allocations(benchmark::State& state, std::size_t before) {
  state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(allocation_count - before),
                                                   benchmark::Counter::kAvgIterations);
}

}  // namespace bench
}  // namespace wspulse

// Out of line: g++ 12 would see free() applied, once inlined, to what operator new returned
// and warn (-Wmismatched-new-delete) although the pair matches.
#define WSPULSE_BENCH_OUT_OF_LINE __attribute__((noinline))

WSPULSE_BENCH_OUT_OF_LINE void* operator new(std::size_t n) {
  ++wspulse::bench::allocation_count;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
WSPULSE_BENCH_OUT_OF_LINE void* operator new[](std::size_t n) { return operator new(n); }
WSPULSE_BENCH_OUT_OF_LINE void operator delete(void* p) noexcept { std::free(p); }
WSPULSE_BENCH_OUT_OF_LINE void operator delete[](void* p) noexcept { std::free(p); }
WSPULSE_BENCH_OUT_OF_LINE void operator delete(void* p, std::size_t) noexcept { std::free(p); }
WSPULSE_BENCH_OUT_OF_LINE void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#undef WSPULSE_BENCH_OUT_OF_LINE
