// A custom logger: any type with `enabled`, `log(level, message, fields)` (and optionally
// `enabled_for(level)`) is a Logger. This one writes "wspulse LEVEL message key=value..." lines
// to std::clog. The client calls it from its own thread too: it must be thread-safe.
//
//   wspulse-example-logger ws://host:port/ws?room=r1
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <initializer_list>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string_view>

struct clog_logger {
  static constexpr bool enabled = true;
  bool enabled_for(wspulse::log_level level) const noexcept {
    return level >= wspulse::log_level::info;
  }
  void log(wspulse::log_level level, std::string_view message,
           std::initializer_list<wspulse::log_field> fields) const noexcept {
    static const char* const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    try {  // a logger should not throw: drop the line instead
      std::ostringstream line;
      line << "wspulse " << names[static_cast<int>(level)] << " " << message;
      for (const wspulse::log_field& f : fields) {
        line << " " << f.key() << "=";
        f.visit([&](const auto& v) { line << v; });
      }
      static std::mutex mu;  // one line at a time
      std::lock_guard<std::mutex> lock(mu);
      std::clog << line.str() << std::endl;
    } catch (...) {
    }
  }
};

using logged_client = wspulse::basic_client<wspulse::json_codec, clog_logger>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/ws?room=r1\n";
    return 2;
  }
  wspulse::reason why;
  auto client = logged_client::dial(argv[1], logged_client::options{}, why);  // logs "connected"
  if (!client) {
    std::cerr << "dial failed: " << why.message() << "\n";
    return 1;
  }
  client.close();  // logs the close
  return 0;
}
