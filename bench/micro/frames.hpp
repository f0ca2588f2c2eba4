// wspulse_client micro-benchmarks — the frames the codec benchmark measures, and the only
// source of them: `wspulse-micro-codec --write-frames=DIR` writes their encoded messages for the
// Go comparison (bench/go_json), so both sides measure the same bytes.
//
// 1) realistic: id "msg-000123", event "order.update" and a payload of exactly 64 B, 1 KiB or
//    16 KiB of realistic JSON: an e-commerce "order update" object with a nested user object,
//    strings, integers, decimals, booleans and an array of item objects (each with a tags
//    array), padded with a "note" string to the exact size (64 B: a small chat-like object).
// 2) go: the frames of wspulse/core's Go codec benchmark (codec_bench_test.go): no id, event
//    "bench", payload a JSON string "xxx..." of exactly 64 B, 1 KiB or 16 KiB.
// SPDX-License-Identifier: MIT
#pragma once

#include <wspulse/frame.hpp>

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace wspulse {
namespace bench {

// Realistic JSON of exactly `size` bytes.
inline std::string realistic_payload(std::size_t size) {
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

struct named_frame {
  std::string name;  // "<set>/<payload bytes>", e.g. "realistic/1024"
  wspulse::frame frame;
};

// Every frame of both sets, at 64 B, 1 KiB and 16 KiB.
inline std::vector<named_frame> codec_frames() {
  std::vector<named_frame> frames;
  for (const std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384}}) {
    frames.push_back({"realistic/" + std::to_string(size),
                      {"msg-000123", "order.update", realistic_payload(size)}});
  }
  for (const std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384}}) {
    frames.push_back(
        {"go/" + std::to_string(size), {"", "bench", "\"" + std::string(size - 2, 'x') + "\""}});
  }
  return frames;
}

}  // namespace bench
}  // namespace wspulse
