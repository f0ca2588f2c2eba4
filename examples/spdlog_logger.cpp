// A Logger adapter for spdlog: the client's records go to an spdlog logger of the
// application's (here a colour console sink named "wspulse"), fields appended as key=value.
// spdlog loggers are thread-safe (the `_mt` sinks), as the client needs: it logs from its own
// thread too. Levels map one to one; `enabled_for` asks spdlog, so a record spdlog would drop
// is never formatted. Built when spdlog is installed (Debian: libspdlog-dev).
//
//   wspulse-example-spdlog_logger ws://host:port/ws?room=r1
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <initializer_list>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

struct spdlog_logger {
  static constexpr bool enabled = true;
  std::shared_ptr<spdlog::logger> sink = spdlog::default_logger();

  static spdlog::level::level_enum to_spdlog(wspulse::log_level level) noexcept {
    switch (level) {
      case wspulse::log_level::debug: return spdlog::level::debug;
      case wspulse::log_level::info: return spdlog::level::info;
      case wspulse::log_level::warn: return spdlog::level::warn;
      case wspulse::log_level::error: break;
    }
    return spdlog::level::err;
  }
  bool enabled_for(wspulse::log_level level) const noexcept {
    return sink->should_log(to_spdlog(level));
  }
  void log(wspulse::log_level level, std::string_view message,
           std::initializer_list<wspulse::log_field> fields) const noexcept {
    try {  // a logger should not throw: drop the line instead
      std::string line(message);
      for (const wspulse::log_field& f : fields) {
        line += ' ';
        line += f.key();
        line += '=';
        f.visit([&line](const auto& v) { line += fmt::format("{}", v); });
      }
      sink->log(to_spdlog(level), line);
    } catch (...) {
    }
  }
};

using logged_client = wspulse::basic_client<wspulse::json_codec, spdlog_logger>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ws://host:port/ws?room=r1\n";
    return 2;
  }
  auto console = spdlog::stderr_color_mt("wspulse");
  console->set_level(spdlog::level::info);
  logged_client::options opts;
  opts.logger(spdlog_logger{console});

  wspulse::reason why;
  auto client = logged_client::dial(argv[1], std::move(opts), why);  // logs "connected"
  if (!client) {
    std::cerr << "dial failed: " << why.message() << "\n";
    return 1;
  }
  if (const std::error_code ec =
          client.send(wspulse::frame{"", "example.hello", R"({"from":"spdlog_logger"})"})) {
    std::cerr << "send failed: " << ec.message() << "\n";
    return 1;
  }
  client.close();  // logs the close
  return 0;
}
