// wspulse_client micro-benchmark — json_codec encode/decode against a plain RapidJSON DOM
// baseline, on the frames of frames.hpp. Google Benchmark; bytes/s count the whole message.
//
//   encode/<frame>         json_codec::encode into a fresh string (what send() does)
//   decode/<frame>         json_codec::decode into a fresh frame (what on_message gets)
//   encode_reused/<frame>  the same into one string kept across calls (realistic frames only)
//   decode_reused/<frame>  the same into one frame kept across calls (realistic frames only)
//   validate/<frame>       the payload check inside encode (detail::json_validate_payload)
//   reader_validate/<frame> the same check by the RapidJSON reader (detail::json_parse_payload),
//                          which encode used before: the validator's own gain
//   dom_encode/<frame>     Document::Parse(payload) (validation) + Writer{"id","event","payload"}
//   dom_decode/<frame>     Document::Parse(message) + copy id/event + Writer(payload) → frame
//
// allocs/op: the replaced operator new (std::string, our codec) plus a counting RapidJSON
// allocator for the DOM baseline (RapidJSON allocates with malloc, not new).
// `--write-frames=DIR` writes each frame's encoded message to DIR/<set>_<size>.json and exits:
// the input of the Go comparison (tools/json_vs_go.py).
// SPDX-License-Identifier: MIT
#include "counting_new.hpp"
#include "frames.hpp"

#include <wspulse/codec.hpp>

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using wspulse::bench::allocation_count;
using wspulse::bench::report_allocations;

// CrtAllocator with a counter, for the DOM baseline.
struct counting_crt_allocator {
  [[maybe_unused]] static const bool kNeedFree = true;  // RapidJSON's Allocator concept
  void* Malloc(std::size_t size) {
    if (size == 0) return nullptr;
    ++allocation_count;
    return std::malloc(size);
  }
  void* Realloc(void* p, std::size_t, std::size_t n) {
    if (n == 0) {
      std::free(p);
      return nullptr;
    }
    ++allocation_count;
    return std::realloc(p, n);
  }
  static void Free(void* p) { std::free(p); }
};

using dom_allocator = rapidjson::MemoryPoolAllocator<counting_crt_allocator>;
using dom_document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, dom_allocator, counting_crt_allocator>;
using dom_buffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, counting_crt_allocator>;
using dom_writer =
    rapidjson::Writer<dom_buffer, rapidjson::UTF8<>, rapidjson::UTF8<>, counting_crt_allocator>;

std::string dom_encode(const wspulse::frame& f) {
  dom_document payload;
  payload.Parse(f.payload.data(), f.payload.size());
  if (payload.HasParseError()) std::abort();
  dom_buffer buf;
  dom_writer w(buf);
  w.StartObject();
  w.Key("id");
  w.String(f.id.data(), static_cast<rapidjson::SizeType>(f.id.size()));
  w.Key("event");
  w.String(f.event.data(), static_cast<rapidjson::SizeType>(f.event.size()));
  w.Key("payload");
  payload.Accept(w);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

wspulse::frame dom_decode(const std::string& text) {
  dom_document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) std::abort();
  wspulse::frame f;
  f.id.assign(d["id"].GetString(), d["id"].GetStringLength());
  f.event.assign(d["event"].GetString(), d["event"].GetStringLength());
  dom_buffer buf;
  dom_writer w(buf);
  d["payload"].Accept(w);
  f.payload.assign(buf.GetString(), buf.GetSize());
  return f;
}

std::string encoded(const wspulse::frame& f) {
  std::string wire;
  std::error_code ec;
  wspulse::json_codec{}.encode(f, wire, ec);
  return wire;
}

// Runs `op` once per iteration; bytes/s over the whole message, allocations per op.
template <class Op>
void measure(benchmark::State& state, std::size_t message_bytes, Op op) {
  const std::size_t before = allocation_count;
  for (auto _ : state) op();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * message_bytes));
  report_allocations(state, before);
}

void register_frame(const wspulse::bench::named_frame& named) {
  const wspulse::frame& f = named.frame;
  const std::string wire = encoded(f);
  const std::size_t bytes = wire.size();
  const bool with_reused = named.name.rfind("realistic/", 0) == 0;
  auto add = [&named](const char* op, auto&& run) {
    benchmark::RegisterBenchmark((std::string(op) + "/" + named.name).c_str(), run);
  };
  const wspulse::json_codec codec;

  add("encode", [=](benchmark::State& state) {
    std::error_code ec;
    measure(state, bytes, [&] {
      std::string out;  // fresh, as a client sending messages would use
      codec.encode(f, out, ec);
      benchmark::DoNotOptimize(out);
    });
  });
  add("decode", [=](benchmark::State& state) {
    std::error_code ec;
    measure(state, bytes, [&] {
      wspulse::frame out;  // fresh, as handed to on_message
      codec.decode(wire, out, ec);
      benchmark::DoNotOptimize(out);
    });
  });
  if (with_reused) {
    add("encode_reused", [=](benchmark::State& state) {
      std::error_code ec;
      std::string out;
      measure(state, bytes, [&] {
        codec.encode(f, out, ec);
        benchmark::DoNotOptimize(out);
      });
    });
    add("decode_reused", [=](benchmark::State& state) {
      std::error_code ec;
      wspulse::frame out;
      measure(state, bytes, [&] {
        codec.decode(wire, out, ec);
        benchmark::DoNotOptimize(out);
      });
    });
    add("validate", [=](benchmark::State& state) {
      measure(state, f.payload.size(), [&] {
        std::string_view value;
        benchmark::DoNotOptimize(wspulse::detail::json_validate_payload(f.payload, 1, value));
      });
    });
    add("reader_validate", [=](benchmark::State& state) {
      measure(state, f.payload.size(), [&] {
        std::string_view value;
        benchmark::DoNotOptimize(wspulse::detail::json_parse_payload(f.payload, value));
      });
    });
  }
  add("dom_encode", [=](benchmark::State& state) {
    measure(state, bytes, [&] {
      std::string out = dom_encode(f);
      benchmark::DoNotOptimize(out);
    });
  });
  add("dom_decode", [=](benchmark::State& state) {
    measure(state, bytes, [&] {
      wspulse::frame out = dom_decode(wire);
      benchmark::DoNotOptimize(out);
    });
  });
}

// Both codecs must accept every frame and read the same fields, or the figures compare nothing.
// (The DOM rewrites numbers, 9.00 → 9.0: its payload text may differ, its fields may not.)
bool frames_round_trip() {
  for (const auto& named : wspulse::bench::codec_frames()) {
    const wspulse::frame& f = named.frame;
    const std::string wire = encoded(f);
    wspulse::frame back;
    std::error_code ec;
    wspulse::json_codec{}.decode(wire, back, ec);
    const wspulse::frame dom = dom_decode(dom_encode(f));
    if (ec || back != f || dom.id != f.id || dom.event != f.event || dom.payload.empty()) {
      std::fprintf(stderr, "self-check failed for %s\n", named.name.c_str());
      return false;
    }
  }
  return true;
}

int write_frames(const std::string& dir) {
  for (const auto& named : wspulse::bench::codec_frames()) {
    std::string file = named.name;
    file[file.find('/')] = '_';
    const std::string path = dir + "/" + file + ".json";
    const std::string wire = encoded(named.frame);
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (!out || std::fwrite(wire.data(), 1, wire.size(), out) != wire.size() ||
        std::fclose(out) != 0) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("%s %zu\n", path.c_str(), wire.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view write_flag = "--write-frames=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, write_flag.size()) == write_flag)
      return write_frames(std::string(arg.substr(write_flag.size())));
  }
  if (!frames_round_trip()) return 1;
  for (const auto& named : wspulse::bench::codec_frames()) register_frame(named);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
