// wspulse_client micro-benchmark — router::dispatch of a frame by event name, among 4 or 32
// routes, with no middleware and with router::recovery() in front. The frames cycle through
// every route ("room.07.message", ...: names that share a long prefix, as real events do), so
// neither the lookup nor the branch predictor sees the same event twice in a row; the handler
// only counts.
//
//   dispatch/routes:N/middleware:0|1   one dispatch per iteration
//   dispatch_unrouted/routes:N         a frame with no route and no fallback (returns false)
// SPDX-License-Identifier: MIT
#include "counting_new.hpp"

#include <wspulse/router.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using wspulse::bench::allocation_count;
using wspulse::bench::report_allocations;

std::string event_name(std::int64_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "room.%02d.message", static_cast<int>(i));
  return name;
}

wspulse::router make_router(std::int64_t routes, bool with_recovery, std::size_t& handled) {
  wspulse::router r;
  if (with_recovery) r.use(wspulse::router::recovery());
  for (std::int64_t i = 0; i < routes; ++i)
    r.on(event_name(i), [&handled](wspulse::router::context&) { ++handled; });
  return r;
}

void dispatch(benchmark::State& state) {
  const std::int64_t routes = state.range(0);
  std::size_t handled = 0;
  const wspulse::router r = make_router(routes, state.range(1) != 0, handled);
  std::vector<wspulse::frame> frames;
  for (std::int64_t i = 0; i < routes; ++i) frames.push_back({"", event_name(i), "{}"});

  const std::size_t before = allocation_count;
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(r.dispatch(frames[next]));
    next = next + 1 == frames.size() ? 0 : next + 1;
  }
  report_allocations(state, before);
  if (handled != static_cast<std::size_t>(state.iterations())) state.SkipWithError("unhandled");
}

void dispatch_unrouted(benchmark::State& state) {
  std::size_t handled = 0;
  const wspulse::router r = make_router(state.range(0), false, handled);
  const wspulse::frame unknown{"", "room.99.unknown", "{}"};
  const std::size_t before = allocation_count;
  for (auto _ : state) benchmark::DoNotOptimize(r.dispatch(unknown));
  report_allocations(state, before);
}

}  // namespace

BENCHMARK(dispatch)->ArgNames({"routes", "middleware"})->ArgsProduct({{4, 32}, {0, 1}});
BENCHMARK(dispatch_unrouted)->ArgName("routes")->Arg(4)->Arg(32);

BENCHMARK_MAIN();
