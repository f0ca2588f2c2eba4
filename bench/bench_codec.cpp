// wspulse_client benchmark — json_codec encode/decode against a plain RapidJSON DOM baseline.
//
// 1) Realistic frames: id "msg-000123", event "order.update" and a payload of 64 B, 1 KiB or
//    16 KiB of realistic JSON: an e-commerce "order update" object with a nested user object,
//    strings, integers, decimals, booleans and an array of item objects (each with a tags array),
//    padded with a "note" string to the exact size (64 B: a small chat-like object).
// 2) Go-shaped frames, the ones wspulse/core's Go codec benchmark uses: event "bench", payload a
//    JSON string "xxx..." of 64 B, 1 KiB or 16 KiB, for a like-for-like comparison with Go.
//
// Baselines (same frame, same run):
//   dom encode: Document::Parse(payload) (validation) + Writer{"id","event","payload"} → string
//   dom decode: Document::Parse(message) + copy id/event + Writer(payload) → frame
// Each case runs >= 0.3 s per run; the median of 5 runs is printed. Allocations are counted
// through the replaced global operator new below (std::string, our codec) plus a counting
// RapidJSON allocator for the DOM baseline (RapidJSON allocates with malloc, not new).
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// ---- allocation counting ------------------------------------------------------------------

static std::size_t g_allocs = 0;  // single-threaded program

void* operator new(std::size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

// CrtAllocator with a counter, for the DOM baseline.
struct counting_crt_allocator {
  static const bool kNeedFree = true;
  void* Malloc(std::size_t size) {
    if (size == 0) return nullptr;
    ++g_allocs;
    return std::malloc(size);
  }
  void* Realloc(void* p, std::size_t, std::size_t n) {
    if (n == 0) {
      std::free(p);
      return nullptr;
    }
    ++g_allocs;
    return std::realloc(p, n);
  }
  static void Free(void* p) { std::free(p); }
};

using dom_allocator = rapidjson::MemoryPoolAllocator<counting_crt_allocator>;
using dom_document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, dom_allocator, counting_crt_allocator>;
using dom_buffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, counting_crt_allocator>;

// ---- helpers ------------------------------------------------------------------------------

template <class T>
inline void keep(T& value) {
  asm volatile("" : : "r"(&value) : "memory");  // the optimiser must assume `value` is read
}

// Realistic JSON of exactly `size` bytes.
static std::string realistic_payload(std::size_t size) {
  std::string s;
  if (size < 256) {
    s = R"({"user":"alice","ts":1714566896,"ok":true,"text":")";
  } else {
    s = R"({"type":"order.update","order_id":"ord_8f3a2c91","user":{"id":48213,)"
        R"("name":"Alice Zhang","email":"alice@example.com","verified":true},)"
        R"("amount":1299.5,"currency":"USD","created_at":"2024-05-01T12:34:56Z","items":[)";
    static const char* const names[] = {"Wireless Mouse", "USB-C Cable", "Laptop Stand",
                                        "Mechanical Keyboard", "Noise Cancelling Headphones"};
    for (int i = 0;; ++i) {
      char item[256];
      std::snprintf(item, sizeof item,
                    R"(%s{"sku":"SKU-%05d","name":"%s","qty":%d,"price":%d.%02d,)"
                    R"("in_stock":%s,"tags":["electronics","accessories"]})",
                    i == 0 ? "" : ",", 10001 + i, names[i % 5], 1 + i % 4, 9 + (i * 7) % 90,
                    (i * 37) % 100, i % 3 ? "true" : "false");
      if (s.size() + std::string_view(item).size() + 16 > size) break;
      s += item;
    }
    s += R"(],"note":")";
  }
  const std::size_t tail = 2;  // "}
  const std::string filler = "Please leave the parcel at the front desk. Thank you! ";
  for (std::size_t i = 0; s.size() + tail < size; ++i) s += filler[i % filler.size()];
  s += "\"}";
  return s;
}

// Median over 5 runs of ns/op, each run lasting >= 0.3 s; also allocations/op.
struct result {
  double ns = 0;
  double allocs = 0;
};

template <class Op>
static result measure(Op&& op) {
  using clock = std::chrono::steady_clock;
  auto run = [&](std::size_t n) {
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < n; ++i) op();
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  std::size_t n = 1;
  for (;;) {  // calibrate
    const double t = run(n);
    if (t >= 0.3) break;
    const double grow = t > 0 ? 0.36 / t : 10.0;
    n = static_cast<std::size_t>(static_cast<double>(n) * std::min(10.0, std::max(1.5, grow))) + 1;
  }
  std::vector<double> runs;
  result r;
  for (int k = 0; k < 5; ++k) {
    const std::size_t before = g_allocs;
    const double t = run(n);
    if (k == 0) r.allocs = static_cast<double>(g_allocs - before) / static_cast<double>(n);
    runs.push_back(t * 1e9 / static_cast<double>(n));
  }
  std::sort(runs.begin(), runs.end());
  r.ns = runs[2];
  return r;
}

// ---- the cases ----------------------------------------------------------------------------

static std::string dom_encode(const wspulse::frame& f) {
  dom_document payload;
  payload.Parse(f.payload.data(), f.payload.size());
  if (payload.HasParseError()) std::abort();
  dom_buffer buf;
  rapidjson::Writer<dom_buffer, rapidjson::UTF8<>, rapidjson::UTF8<>, counting_crt_allocator> w(
      buf);
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

static wspulse::frame dom_decode(const std::string& text) {
  dom_document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) std::abort();
  wspulse::frame f;
  f.id.assign(d["id"].GetString(), d["id"].GetStringLength());
  f.event.assign(d["event"].GetString(), d["event"].GetStringLength());
  dom_buffer buf;
  rapidjson::Writer<dom_buffer, rapidjson::UTF8<>, rapidjson::UTF8<>, counting_crt_allocator> w(
      buf);
  d["payload"].Accept(w);
  f.payload.assign(buf.GetString(), buf.GetSize());
  return f;
}

// Measures every case for one frame and prints its rows.
static void bench_frame(const wspulse::frame& f, const char* label, bool with_reused) {
  const wspulse::json_codec codec;
  std::string wire;
  std::error_code ec;
  codec.encode(f, wire, ec);
  wspulse::frame check;
  codec.decode(wire, check, ec);
  if (ec || check != f || dom_decode(wire).event != f.event || dom_encode(f).empty()) {
    std::fprintf(stderr, "self-check failed for %s\n", label);
    std::exit(1);
  }

  const result enc = measure([&] {
    std::string out;  // fresh output string, as a client sending messages would use
    codec.encode(f, out, ec);
    keep(out);
  });
  const result dec = measure([&] {
    wspulse::frame out;  // fresh frame, as handed to on_message
    codec.decode(wire, out, ec);
    keep(out);
  });
  result enc_reused, dec_reused;
  if (with_reused) {
    std::string reused;
    enc_reused = measure([&] {
      codec.encode(f, reused, ec);
      keep(reused);
    });
    wspulse::frame reused_frame;
    dec_reused = measure([&] {
      codec.decode(wire, reused_frame, ec);
      keep(reused_frame);
    });
  }
  const result dom_enc = measure([&] {
    std::string out = dom_encode(f);
    keep(out);
  });
  const result dom_dec = measure([&] {
    wspulse::frame out = dom_decode(wire);
    keep(out);
  });

  auto row = [&](const char* name, const result& r, const result* base) {
    const double mbs = static_cast<double>(wire.size()) / r.ns * 1e3;  // whole message
    char ratio[32] = "";
    if (base) std::snprintf(ratio, sizeof ratio, "%.2f", r.ns / base->ns);
    std::printf("%-8s %-22s %11.1f %9.0f %10.2f %8s\n", label, name, r.ns, mbs, r.allocs, ratio);
  };
  row("encode", enc, &dom_enc);
  if (with_reused) row("encode (reused out)", enc_reused, &dom_enc);
  row("decode", dec, &dom_dec);
  if (with_reused) row("decode (reused out)", dec_reused, &dom_dec);
  row("dom encode (baseline)", dom_enc, nullptr);
  row("dom decode (baseline)", dom_dec, nullptr);
  std::printf("\n");
}

static void header() {
  std::printf("%-8s %-22s %11s %9s %10s %8s\n", "payload", "case", "ns/op", "MB/s", "allocs/op",
              "vs DOM");
}

int main() {
  std::printf("wspulse json_codec benchmark: median of 5 runs, each >= 0.3 s\n");
  std::printf("compiler: %s (%s)\n", __VERSION__,
#ifdef __OPTIMIZE__
              "optimised"
#else
              "NOT optimised: numbers are meaningless"
#endif
  );
  std::printf(
      "reproduce: g++ -std=c++17 -O2 -DNDEBUG -DASIO_STANDALONE -I. bench/bench_codec.cpp "
      "-o /tmp/bench_codec -pthread && /tmp/bench_codec\n");
  std::printf(
      "vs DOM = our ns / RapidJSON DOM ns for the same frame (lower is better); MB/s counts "
      "the whole message.\n\n");

  std::printf(
      "1) realistic frames: id \"msg-000123\", event \"order.update\", payload an order "
      "object\n   (nested object, strings, integers, decimals, booleans, array of item "
      "objects) of exactly N bytes\n");
  header();
  for (const std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384}}) {
    char label[16];
    std::snprintf(label, sizeof label, "%zu B", size);
    bench_frame(wspulse::frame{"msg-000123", "order.update", realistic_payload(size)}, label, true);
  }

  std::printf(
      "2) Go-shaped frames, as in wspulse/core codec_bench_test.go: event \"bench\", "
      "payload a JSON string\n   \"xxx...\" of exactly N bytes. Go JSONCodec, Apple M1 Max "
      "(core doc/bench.md): encode 390 / 3,833 / 58,294 ns,\n   decode 633 / 3,477 / "
      "48,459 ns for 64 B / 1 KiB / 16 KiB.\n");
  header();
  for (const std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384}}) {
    char label[16];
    std::snprintf(label, sizeof label, "%zu B", size);
    bench_frame(wspulse::frame{"", "bench", "\"" + std::string(size - 2, 'x') + "\""}, label,
                false);
  }
  return 0;
}
