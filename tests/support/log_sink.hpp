// wspulse_client tests — the logger every client test uses: off by default (the client then
// builds no log fields), on with WSPULSE_TEST_LOG=1 or log_sink::capture. Each record is
// checked as it is written: a "url" field must already be redacted and no text may contain
// the marker "secret" (tests put it in query values and header values). A record that breaks
// a rule aborts the process, so a whole suite run with logging on proves the rule.
// SPDX-License-Identifier: MIT
#pragma once

#include <wspulse_client.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace wspulse::test_support {

class log_sink {
 public:
  static log_sink& instance() {
    static log_sink sink;
    return sink;
  }
  bool on() const noexcept { return on_.load(std::memory_order_relaxed); }
  /// Turns capture on until the returned guard dies (then back to the environment's choice).
  struct capture_guard {
    ~capture_guard() { instance().on_.store(instance().from_env_); }
  };
  [[nodiscard]] capture_guard capture() {
    clear();
    on_.store(true);
    return {};
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.clear();
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {lines_.begin(), lines_.end()};
  }
  void write(log_level level, std::string_view message, std::initializer_list<log_field> fields) {
    std::string line(to_string(level));
    line.append(" ").append(message);
    for (const log_field& f : fields) {
      line.append(" ").append(f.key()).append("=");
      f.visit([&](auto v) {
        if constexpr (std::is_same_v<decltype(v), std::string_view>)
          line.append(v);
        else
          line.append(std::to_string(v));
      });
      if (f.key() == "url" && redact_url(f.as_string()) != f.as_string())
        fail("a url field shows a query value", line);
    }
    if (line.find("secret") != std::string::npos) fail("a secret reached the log", line);
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
    if (lines_.size() > 20000) lines_.pop_front();  // a long suite keeps only the newest
  }

 private:
  log_sink() {
    const char* env = std::getenv("WSPULSE_TEST_LOG");
    from_env_ = env != nullptr && std::string_view(env) == "1";
    on_.store(from_env_);
  }
  [[noreturn]] static void fail(const char* rule, const std::string& line) {
    std::fprintf(stderr, "log_sink: %s: %s\n", rule, line.c_str());
    std::abort();
  }

  mutable std::mutex mu_;
  std::deque<std::string> lines_;
  bool from_env_ = false;
  std::atomic<bool> on_{false};
};

/// A Logger (wspulse's concept) writing to log_sink; every level when the sink is on.
struct sink_logger {
  static constexpr bool enabled = true;
  bool enabled_for(log_level) const noexcept { return log_sink::instance().on(); }
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields) const {
    log_sink::instance().write(level, message, fields);
  }
};

}  // namespace wspulse::test_support
