// wspulse_client tests and benchmarks — this process as Linux reports it: resident memory
// (VmRSS, VmHWM from /proc/self/status), open descriptors and threads.
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace wspulse::test_support {

/// Entries of a /proc directory right now (0 when it cannot be read).
inline std::size_t proc_entries(const char* path) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(path, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}
/// Open descriptors of this process (the directory iterator's own one included).
inline std::size_t open_fds() { return proc_entries("/proc/self/fd"); }
/// Threads of this process.
inline std::size_t live_threads() { return proc_entries("/proc/self/task"); }

/// A "Name:   123 kB" line of /proc/self/status, in KiB; 0 when absent.
inline long status_kib(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) == 0 && line.size() > name.size() &&
        line[name.size()] == ':')
      return std::strtol(line.c_str() + name.size() + 1, nullptr, 10);
  }
  return 0;
}
inline long rss_kib() { return status_kib("VmRSS"); }
inline long peak_rss_kib() { return status_kib("VmHWM"); }

}  // namespace wspulse::test_support
