// wspulse_client micro-benchmark — the send path without the network: turning an encoded
// message into a masked client frame ready for the socket, ours against websocketpp's, and the
// send queue. Payloads: realistic JSON (frames.hpp) of exactly 64 B, 1 KiB and 16 KiB.
//
//   prepared_frame/<size>    ours, detail::prepared_frame: one message, one copy masked eight
//                            bytes at a time, no UTF-8 check (json_codec guarantees it)
//   wspp_send/<size>         what websocketpp's connection::send(payload, text) does before
//                            queueing: a message holding a copy of the payload, a second one,
//                            processor::hybi13::prepare_data_frame (UTF-8 check, byte-wise mask)
//   wspp_send_random_device/<size>  the same with websocketpp's stock core_client config, whose
//                            masking key comes from std::random_device per frame
//   wspp_prepare_data_frame/<size>  prepare_data_frame alone, into a fresh output message
//   wspp_utf8_validate/<size>  the UTF-8 check prepare_data_frame makes of a text message
//   mask_into/<size>, wspp_byte_mask/<size>  the masking loops alone, into a buffer kept
//   send_queue/depth:<d>     detail::send_queue<256>: push a fresh 64 B frame, pop the oldest,
//                            with d frames already queued; string_copy/64: the fresh frame alone
// All but the random_device row draw their masking keys from one cheap generator, so the rows
// differ by what they do with the bytes, not by where the key comes from.
// SPDX-License-Identifier: MIT
#include "counting_new.hpp"
#include "frames.hpp"

#include <wspulse/detail/frame_writer.hpp>
#include <wspulse/detail/send_queue.hpp>

#include <benchmark/benchmark.h>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/processors/hybi13.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace {

using wspulse::bench::allocation_count;
using wspulse::bench::report_allocations;

// A linear congruential generator: keys differ per frame at no measurable cost.
struct cheap_key_source {
  using int_type = std::uint32_t;
  int_type operator()() { return state = state * 1664525u + 1013904223u; }
  int_type state = 12345;
};

struct cheap_key_config : websocketpp::config::core_client {
  using rng_type = cheap_key_source;
};

constexpr auto text = websocketpp::frame::opcode::text;

template <class Op>
void measure(benchmark::State& state, Op op) {
  const std::size_t before = allocation_count;
  for (auto _ : state) op();
  state.SetBytesProcessed(state.iterations() * state.range(0));
  report_allocations(state, before);
}

std::string payload_of(const benchmark::State& state) {
  return wspulse::bench::realistic_payload(static_cast<std::size_t>(state.range(0)));
}

void prepared_frame(benchmark::State& state) {
  const std::string payload = payload_of(state);
  cheap_key_source keys;
  measure(state, [&] {
    auto out =
        wspulse::detail::prepared_frame<cheap_key_config::message_type>(text, payload, keys());
    benchmark::DoNotOptimize(out);
  });
}

template <class Config>
void wspp_send(benchmark::State& state) {
  const std::string payload = payload_of(state);
  auto manager = std::make_shared<typename Config::con_msg_manager_type>();
  typename Config::rng_type keys;
  websocketpp::processor::hybi13<Config> processor(false, false, manager, keys);
  measure(state, [&] {
    auto in = manager->get_message(text, payload.size());
    in->append_payload(payload);
    auto out = manager->get_message();
    if (processor.prepare_data_frame(in, out)) state.SkipWithError("prepare_data_frame failed");
    benchmark::DoNotOptimize(out);
  });
}

void wspp_prepare_data_frame(benchmark::State& state) {
  const std::string payload = payload_of(state);
  auto manager = std::make_shared<cheap_key_config::con_msg_manager_type>();
  cheap_key_source keys;
  websocketpp::processor::hybi13<cheap_key_config> processor(false, false, manager, keys);
  auto in = manager->get_message(text, payload.size());
  in->append_payload(payload);
  measure(state, [&] {
    auto out = manager->get_message();
    if (processor.prepare_data_frame(in, out)) state.SkipWithError("prepare_data_frame failed");
    benchmark::DoNotOptimize(out);
  });
}

void wspp_utf8_validate(benchmark::State& state) {
  const std::string payload = payload_of(state);
  measure(state, [&] { benchmark::DoNotOptimize(websocketpp::utf8_validator::validate(payload)); });
}

void mask_into(benchmark::State& state) {
  const std::string payload = payload_of(state);
  std::string out(payload.size(), '\0');
  cheap_key_source keys;
  measure(state, [&] {
    wspulse::detail::mask_into(payload.data(), &out[0], payload.size(), keys());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  });
}

void wspp_byte_mask(benchmark::State& state) {
  const std::string payload = payload_of(state);
  std::string out(payload.size(), '\0');
  cheap_key_source keys;
  measure(state, [&] {
    websocketpp::frame::masking_key_type key;
    key.i = keys();
    websocketpp::frame::byte_mask(payload.begin(), payload.end(), out.begin(), key);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  });
}

constexpr std::int64_t frame_bytes = 64;

void send_queue(benchmark::State& state) {
  const std::string wire = wspulse::bench::realistic_payload(frame_bytes);
  wspulse::detail::send_queue<256> queue;
  for (std::int64_t i = 0; i < state.range(0); ++i) queue.push(std::string(wire));
  const std::size_t before = allocation_count;
  for (auto _ : state) {
    queue.push(std::string(wire));  // the encoded frame send() moves in
    queue.pop(1);                   // its write completed
    benchmark::DoNotOptimize(queue.size());
  }
  state.SetBytesProcessed(state.iterations() * frame_bytes);
  report_allocations(state, before);
}

void string_copy(benchmark::State& state) {
  const std::string wire = wspulse::bench::realistic_payload(frame_bytes);
  const std::size_t before = allocation_count;
  for (auto _ : state) {
    std::string copy(wire);
    benchmark::DoNotOptimize(copy);
  }
  state.SetBytesProcessed(state.iterations() * frame_bytes);
  report_allocations(state, before);
}

// 64 B, 1 KiB, 16 KiB.
void payload_sizes(benchmark::internal::Benchmark* b) { b->Arg(64)->Arg(1024)->Arg(16384); }

}  // namespace

BENCHMARK(prepared_frame)->Apply(payload_sizes);
BENCHMARK(wspp_send<cheap_key_config>)->Name("wspp_send")->Apply(payload_sizes);
BENCHMARK(wspp_send<websocketpp::config::core_client>)
    ->Name("wspp_send_random_device")
    ->Apply(payload_sizes);
BENCHMARK(wspp_prepare_data_frame)->Apply(payload_sizes);
BENCHMARK(wspp_utf8_validate)->Apply(payload_sizes);
BENCHMARK(mask_into)->Apply(payload_sizes);
BENCHMARK(wspp_byte_mask)->Apply(payload_sizes);
BENCHMARK(send_queue)->ArgName("depth")->Arg(0)->Arg(200);
BENCHMARK(string_copy)->Arg(frame_bytes);

BENCHMARK_MAIN();
