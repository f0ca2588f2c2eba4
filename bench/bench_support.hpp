// wspulse_client benchmarks — what a benchmark program needs around its measurements: /proc
// readings (RSS, threads, CPU clocks), starting processes (the test server, a scenario's child),
// the result line a child prints and the parent parses, and the machine line.
// SPDX-License-Identifier: MIT
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>  // /proc/self/task
#include <fstream>
#include <iterator>
#include <map>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/syscall.h>  // SYS_gettid
#include <thread>
#include <time.h>  // clock_gettime on another thread's CPU clock
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace wspulse {
namespace bench {

inline pid_t current_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// CPU time of any thread of this process. Linux encodes per-thread CPU clocks as
// ((~tid) << 3) | CPUCLOCK_PERTHREAD_MASK(4) | CPUCLOCK_SCHED(2), as pthread_getcpuclockid does.
inline std::int64_t thread_cpu_ns(pid_t tid) {
  const clockid_t id = static_cast<clockid_t>((~static_cast<unsigned>(tid)) << 3) | 6;
  timespec ts{};
  if (::clock_gettime(id, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// utime + stime of other processes (/proc/<pid>/stat fields 14 and 15), summed, in ns.
inline std::int64_t process_cpu_ns(const std::vector<int>& pids) {
  const long tick = ::sysconf(_SC_CLK_TCK);
  std::int64_t sum = 0;
  for (int pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) continue;
    std::istringstream rest(text.substr(paren + 2));
    std::string field;
    std::int64_t utime = 0, stime = 0;
    for (int f = 3; f <= 15 && rest >> field; ++f) {
      if (f == 14) utime = std::atoll(field.c_str());
      if (f == 15) stime = std::atoll(field.c_str());
    }
    sum += (utime + stime) * 1000000000 / tick;
  }
  return sum;
}

inline int count_threads() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

struct status_readings {
  double rss_kib = 0;  // VmRSS
  double hwm_kib = 0;  // VmHWM: peak VmRSS
};

inline status_readings read_status() {
  status_readings r;
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, 6, "VmRSS:") == 0) r.rss_kib = std::atof(line.c_str() + 6);
    if (line.compare(0, 6, "VmHWM:") == 0) r.hwm_kib = std::atof(line.c_str() + 6);
  }
  return r;
}

// ---- processes ------------------------------------------------------------------------------

inline std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

inline bool executable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

// $WSPULSE_TESTSERVER, then the build's WSPULSE_TESTSERVER_PATH, then next to `exe`.
inline std::string find_testserver([[maybe_unused]] const std::string& exe) {
  if (const char* env = std::getenv("WSPULSE_TESTSERVER")) return env;
#ifdef WSPULSE_TESTSERVER_PATH
  return WSPULSE_TESTSERVER_PATH;
#else
  return exe.substr(0, exe.rfind('/') + 1) + "wspulse-testserver";
#endif
}

// Starts args[0] with stdout on a pipe; returns the pid and the read end.
inline std::pair<pid_t, FILE*> spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  return {pid, ::fdopen(fds[0], "r")};
}

inline std::string read_line(FILE* f) {
  std::string line;
  for (int c; (c = std::fgetc(f)) != EOF && c != '\n';) line += static_cast<char>(c);
  return line;
}

// "RESULT scenario=x key=value ...": the numbers by key (at() throws on a missing one).
using result_line = std::map<std::string, double>;

inline result_line parse_result(const std::string& line) {
  result_line r;
  std::istringstream in(line);
  for (std::string tok; in >> tok;) {
    const auto eq = tok.find('=');
    if (eq == std::string::npos || tok.compare(0, eq, "scenario") == 0) continue;
    r[tok.substr(0, eq)] = std::atof(tok.c_str() + eq + 1);
  }
  return r;
}

// ---- reporting ------------------------------------------------------------------------------

inline std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.empty() ? "n/a" : line;
}

__attribute__((format(printf, 1, 2))) inline std::string format(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// "nproc 2, <CPU model>, loadavg 1.00 0.50 0.25"
inline std::string machine_line() {
  std::string model = "unknown";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return "nproc " + std::to_string(std::thread::hardware_concurrency()) + ", " + model +
         ", loadavg " + first_line("/proc/loadavg").substr(0, 14);
}

}  // namespace bench
}  // namespace wspulse
