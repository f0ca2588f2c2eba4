// wspulse_client benchmark — resident memory per idle connection, 1,000 connections in one
// process, for basic_client and for raw websocketpp.
//
// The server runs as a separate process (the `wspulse-testserver` program), so its side of
// every connection stays out of the numbers. Each scenario runs in a fresh child process (this
// program started again with --child), so one scenario's freed memory cannot hide the next
// one's growth. A child dials one connection and closes it (first-use costs: code pages,
// statics, caches), reads /proc/self/status, /proc/self/smaps and mallinfo2(), dials --clients
// connections, lets them idle 0.5 s, reads everything again, closes every connection and exits.
// Result per connection = (after - before) / clients.
//
// Scenarios:
//   ours          wspulse::basic_client<json_codec, null_logger> x N (each owns an io_context,
//                 an I/O thread and a callback thread, and Asio's resolver thread: websocketpp
//                 resolves every host with async_resolve, whose worker thread lives as long as
//                 the io_context)
//   ours-shared   the same clients on ONE io_context run by one thread of the benchmark's
//                 (dial(io, url)): each client keeps its callback thread (callback_thread)
//   ours-inline   ours-shared with inline_callbacks: no thread per client at all
//   raw-shared    websocketpp asio_client (stub loggers): one endpoint, one io thread, N
//                 connections (the cheapest way to hold N connections with websocketpp)
//   raw-threaded  N x (io_context + websocketpp endpoint + io thread + 1 connection): the same
//                 thread-per-connection structure as ours, minus the callback thread
// Breakdown: RSS of thread stacks (anonymous rw mappings of the thread stack size), of the main
// heap, of other anonymous memory (glibc's per-thread malloc arenas, large blocks); bytes in use
// by malloc (mallinfo2, every arena); stack RSS per thread role (a blocked thread's stack pointer
// from /proc/self/task/<tid>/syscall locates its mapping); the heap blocks kept per connection by
// size (operator new is replaced by a counting wrapper around malloc); kernel stacks, which no
// RSS shows (/proc/meminfo KernelStack, machine-wide).
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "wspulse_testserver.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>
#include <websocketpp/logger/stub.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>  // std::isxdigit: smaps headers
#include <cerrno>
#include <chrono>
#include <csignal>  // kill: stop the server process
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>  // counting /proc/self/fd
#include <fstream>
#include <future>
#include <malloc.h>  // mallinfo2, malloc_usable_size
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <spawn.h>  // posix_spawn: the server and the per-scenario children
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>  // getrlimit/setrlimit: threads and descriptors
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

// ---- live heap blocks by size: what each connection keeps --------------------------------------
// operator new/delete are replaced to keep a count of live blocks per malloc usable size (16-byte
// steps up to 64 KiB). Only counting: every block still comes from malloc. Blocks from
// operator new with an alignment, or from malloc directly, are not seen (mallinfo2 sees all).
namespace live_blocks {
constexpr std::size_t step = 16;
constexpr std::size_t slots = 4096;  // the last slot takes every block of 64 KiB and more
std::atomic<long long> count[slots];
inline std::size_t slot(void* p) { return std::min(::malloc_usable_size(p) / step, slots - 1); }
}  // namespace live_blocks

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  live_blocks::count[live_blocks::slot(p)].fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  live_blocks::count[live_blocks::slot(p)].fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- /proc readings ---------------------------------------------------------------------------

// Every number a child reports, in KiB unless named otherwise.
using readings = std::map<std::string, double>;

long stack_rw_kib() {
  // glibc maps a thread's stack as RLIMIT_STACK bytes rw (8 MiB here) plus a guard page of its
  // own (PROT_NONE, a separate mapping); 32 MiB when the limit is unlimited (x86-64).
  rlimit rl{};
  ::getrlimit(RLIMIT_STACK, &rl);
  if (rl.rlim_cur == RLIM_INFINITY) return 32768;
  return static_cast<long>(rl.rlim_cur / 1024);
}

void read_status(readings& r) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"VmRSS", "VmHWM", "Threads"}) {
      const std::size_t n = std::strlen(key);
      if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') {
        r[key] = std::atof(line.c_str() + n + 1);
      }
    }
  }
}

void read_smaps(readings& r) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  const long stack_kib = stack_rw_kib();
  std::string kind;  // class of the current mapping
  double size = 0;
  r["stack_maps"] = 0;
  for (const char* k : {"rss_stacks", "rss_heap", "rss_anon", "rss_files", "rss_main_stack"})
    r[k] = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') != std::string::npos &&
        line.find(':') > line.find(' ')) {  // header: "addr-addr perms offset dev inode path"
      std::istringstream h(line);
      std::string range, perms, offset, dev, inode, path;
      h >> range >> perms >> offset >> dev >> inode;
      std::getline(h, path);
      path.erase(0, path.find_first_not_of(' '));
      kind = path == "[heap]"    ? "heap"
             : path == "[stack]" ? "main_stack"
             : path.empty()      ? (perms.compare(0, 2, "rw") == 0 ? "anon?" : "anon")
                                 : "files";
      size = 0;
      continue;
    }
    if (line.compare(0, 5, "Size:") == 0) {
      size = std::atof(line.c_str() + 5);
      if (kind == "anon?") {
        kind = static_cast<long>(size) == stack_kib ? "stacks" : "anon";
        if (kind == "stacks") r["stack_maps"] += 1;
      }
    } else if (line.compare(0, 4, "Rss:") == 0) {
      r["rss_" + kind] += std::atof(line.c_str() + 4);
    }
  }
}

void read_malloc(readings& r) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 mi = ::mallinfo2();
  r["malloc_inuse"] = static_cast<double>(mi.uordblks + mi.hblkhd) / 1024.0;
  r["malloc_free"] = static_cast<double>(mi.fordblks) / 1024.0;
#else
  r["malloc_inuse"] = 0;
  r["malloc_free"] = 0;
#endif
}

double count_fds() {
  double n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') n += 1;
    ::closedir(d);
  }
  return n;
}

// Kernel stacks of every thread on the machine (not in any RSS): 16 KiB per thread on x86-64.
void read_meminfo(readings& r) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, 12, "KernelStack:") == 0) r["kernel_stacks"] = std::atof(line.c_str() + 12);
}

readings snapshot() {
  readings r;
  read_meminfo(r);
  read_status(r);
  read_smaps(r);
  read_malloc(r);
  r["fds"] = count_fds();
  return r;
}

// ---- scenarios (child side) -------------------------------------------------------------------

using ours_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>;

struct raw_config : websocketpp::config::asio_client {
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  struct transport_config : websocketpp::config::asio_client::transport_config {
    using alog_type = websocketpp::log::stub;
    using elog_type = websocketpp::log::stub;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};
using raw_endpoint = websocketpp::client<raw_config>;

// One io thread serving any number of connections.
class raw_shared {
 public:
  raw_shared() : work_(asio::make_work_guard(io_)) {
    ep_.clear_access_channels(websocketpp::log::alevel::all);
    ep_.clear_error_channels(websocketpp::log::elevel::all);
    ep_.init_asio(&io_);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~raw_shared() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  // Opens `urls.size()` connections, `wave` at a time; throws if one fails.
  void dial(const std::vector<std::string>& urls, std::size_t wave) {
    for (std::size_t i = 0; i < urls.size(); i += wave) {
      const std::size_t end = std::min(urls.size(), i + wave);
      const std::size_t target = opened_ + (end - i);
      for (std::size_t k = i; k < end; ++k) asio::post(io_, [this, url = urls[k]] { open(url); });
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, seconds(30), [&] { return opened_ + failed_ >= target; }) ||
          failed_ != 0)
        throw std::runtime_error("raw-shared: a connection failed");
    }
  }
  void close_all() {
    const std::size_t target = cons_count();
    asio::post(io_, [this] {
      for (auto& con : cons_) {
        std::error_code ec;
        con->close(websocketpp::close::status::normal, "", ec);
      }
    });
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, seconds(30), [&] { return closed_ >= target; });
    asio::post(io_, [this] { cons_.clear(); });
  }

 private:
  std::size_t cons_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_;
  }
  void open(const std::string& url) {  // io thread
    std::error_code ec;
    auto con = ep_.get_connection(url, ec);
    if (ec) return bump(failed_);
    con->set_open_handler([this](websocketpp::connection_hdl) { bump(opened_); });
    con->set_fail_handler([this](websocketpp::connection_hdl) { bump(failed_); });
    con->set_close_handler([this](websocketpp::connection_hdl) { bump(closed_); });
    ep_.connect(con);
    cons_.push_back(con);
  }
  void bump(std::size_t& counter) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counter;
    }
    cv_.notify_all();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  raw_endpoint ep_;
  std::thread thread_;
  std::vector<raw_endpoint::connection_ptr> cons_;  // io thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t opened_ = 0, failed_ = 0, closed_ = 0;
};

// One io_context, endpoint and io thread per connection: the structure of basic_client.
class raw_threaded {
 public:
  explicit raw_threaded(const std::string& url) : work_(asio::make_work_guard(io_)) {
    ep_.clear_access_channels(websocketpp::log::alevel::all);
    ep_.clear_error_channels(websocketpp::log::elevel::all);
    ep_.init_asio(&io_);
    std::error_code ec;
    con_ = ep_.get_connection(url, ec);
    if (ec) throw std::runtime_error("raw-threaded: " + ec.message());
    std::promise<bool> opened;
    auto result = opened.get_future();
    con_->set_open_handler([&opened](websocketpp::connection_hdl) { opened.set_value(true); });
    con_->set_fail_handler([&opened](websocketpp::connection_hdl) { opened.set_value(false); });
    con_->set_close_handler([this](websocketpp::connection_hdl) { closed_.set_value(); });
    ep_.connect(con_);
    thread_ = std::thread([this] { io_.run(); });
    const bool ok = result.wait_for(seconds(30)) == std::future_status::ready && result.get();
    // The handlers above captured a local: replace them before it goes.
    asio::post(io_, [this] {
      con_->set_open_handler(nullptr);
      con_->set_fail_handler(nullptr);
    });
    if (!ok) {
      shut();
      throw std::runtime_error("raw-threaded: connect failed");
    }
  }
  ~raw_threaded() {
    asio::post(io_, [this] {
      std::error_code ec;
      con_->close(websocketpp::close::status::normal, "", ec);
    });
    closed_.get_future().wait_for(seconds(10));
    shut();
  }

 private:
  void shut() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  raw_endpoint ep_;
  raw_endpoint::connection_ptr con_;
  std::promise<void> closed_;
  std::thread thread_;
};

std::set<pid_t> list_threads() {
  std::set<pid_t> out;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.insert(static_cast<pid_t>(std::atoi(e->d_name)));
    ::closedir(d);
  }
  return out;
}

// "STACKS <k>:<syscall>:<KiB> ...": stack RSS of the threads created since `before`, averaged
// by position within a connection (the threads of connection i are created together, so
// sorted thread ids repeat the same roles). A blocked thread's stack pointer, from
// /proc/self/task/<tid>/syscall, finds its stack mapping in /proc/self/smaps.
void print_stacks(const std::set<pid_t>& before, int clients) {
  struct mapping {
    unsigned long lo = 0, hi = 0;
    double rss = 0;
  };
  std::vector<mapping> maps;
  {
    std::ifstream in("/proc/self/smaps");
    std::string line;
    while (std::getline(in, line)) {
      const auto dash = line.find('-'), space = line.find(' ');
      if (dash != std::string::npos && space != std::string::npos && dash < space &&
          std::isxdigit(static_cast<unsigned char>(line[0]))) {
        mapping m;
        m.lo = std::stoul(line.substr(0, dash), nullptr, 16);
        m.hi = std::stoul(line.substr(dash + 1, space - dash - 1), nullptr, 16);
        maps.push_back(m);
      } else if (line.compare(0, 4, "Rss:") == 0 && !maps.empty()) {
        maps.back().rss = std::atof(line.c_str() + 4);
      }
    }
  }
  std::vector<pid_t> fresh;
  for (pid_t t : list_threads())
    if (before.count(t) == 0) fresh.push_back(t);
  if (fresh.empty() || fresh.size() % static_cast<std::size_t>(clients) != 0) {
    std::printf("STACKS\n");
    return;
  }
  const std::size_t per = fresh.size() / static_cast<std::size_t>(clients);
  std::vector<double> rss(per, 0);
  std::vector<std::map<std::string, int>> calls(per);
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    std::ifstream in("/proc/self/task/" + std::to_string(fresh[i]) + "/syscall");
    std::vector<std::string> tok;
    for (std::string t; in >> t;) tok.push_back(t);
    if (tok.size() < 9) continue;
    const unsigned long sp = std::stoul(tok[7], nullptr, 16);
    for (const auto& m : maps) {
      if (sp >= m.lo && sp < m.hi) rss[i % per] += m.rss;
    }
    calls[i % per][tok[0]] += 1;
  }
  std::printf("STACKS");
  for (std::size_t k = 0; k < per; ++k) {
    std::string common = "?";
    int best = 0;
    for (const auto& [nr, c] : calls[k])
      if (c > best) best = c, common = nr;
    std::printf(" %zu:%s:%.1f", k, common.c_str(), rss[k] / clients);
  }
  std::printf("\n");
}

std::vector<long long> block_counts() {
  std::vector<long long> out(live_blocks::slots);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = live_blocks::count[i].load(std::memory_order_relaxed);
  return out;
}

// "BLOCKS <usable size>:<blocks gained> ...": the slot's typical usable size (16 k + 8).
void print_blocks(const std::vector<long long>& before, const std::vector<long long>& after) {
  std::printf("BLOCKS");
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (after[i] != before[i])
      std::printf(" %zu:%lld", i * live_blocks::step + 8, after[i] - before[i]);
  }
  std::printf("\n");
}

void print_result(const char* scenario, int clients, const readings& before, const readings& after,
                  const readings& closed, double dial_s, double close_s) {
  std::printf("RESULT scenario=%s clients=%d dial_s=%.3f close_s=%.3f", scenario, clients, dial_s,
              close_s);
  for (const auto& [k, v] : before) std::printf(" before.%s=%.1f", k.c_str(), v);
  for (const auto& [k, v] : after) std::printf(" after.%s=%.1f", k.c_str(), v);
  for (const auto& [k, v] : closed) std::printf(" closed.%s=%.1f", k.c_str(), v);
  std::printf("\n");
  std::fflush(stdout);
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ours-shared, ours-inline: N clients on one io_context run by one thread of the benchmark's
// (dial(io, url) from the main thread), with the callback thread or inline callbacks.
template <class Dispatch>
int run_ours_shared(const char* scenario, const std::string& base_url, int clients) {
  using client_type = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                            wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                            wspulse::buffer_bounds<>, Dispatch>;
  auto url = [&](const std::string& id) { return base_url + "/ws?room=mem&id=" + id; };
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  { client_type::dial(io, url("warm")).close(); }
  std::vector<client_type> all;
  all.reserve(static_cast<std::size_t>(clients));
  const readings before = snapshot();
  const auto blocks_before = block_counts();
  const auto threads_before = list_threads();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < clients; ++i)
    all.push_back(client_type::dial(io, url(std::string(scenario) + std::to_string(i))));
  const double dial_s = since(t0);
  std::this_thread::sleep_for(milliseconds(500));
  const readings after = snapshot();
  print_blocks(blocks_before, block_counts());
  print_stacks(threads_before, clients);
  const auto t1 = std::chrono::steady_clock::now();
  for (auto& c : all) c.close();
  all.clear();
  const double close_s = since(t1);
  work.reset();
  runner.join();
  print_result(scenario, clients, before, after, snapshot(), dial_s, close_s);
  return 0;
}

int run_child(const std::string& scenario, const std::string& base_url, int clients) {
  if (scenario == "ours-shared")
    return run_ours_shared<wspulse::callback_thread>("ours-shared", base_url, clients);
  if (scenario == "ours-inline")
    return run_ours_shared<wspulse::inline_callbacks>("ours-inline", base_url, clients);
  auto url = [&](const std::string& id) { return base_url + "/ws?room=mem&id=" + id; };
  using clock = std::chrono::steady_clock;
  const auto idle = milliseconds(500);
  if (scenario == "ours") {
    { ours_client::dial(url("warm")).close(); }
    std::vector<ours_client> all;
    all.reserve(static_cast<std::size_t>(clients));
    const readings before = snapshot();
    const auto blocks_before = block_counts();
    const auto threads_before = list_threads();
    const auto t0 = clock::now();
    for (int i = 0; i < clients; ++i)
      all.push_back(ours_client::dial(url("o" + std::to_string(i))));
    const double dial_s = since(t0);
    std::this_thread::sleep_for(idle);
    const readings after = snapshot();
    print_blocks(blocks_before, block_counts());
    print_stacks(threads_before, clients);
    const auto t1 = clock::now();
    for (auto& c : all) c.close();
    all.clear();
    const double close_s = since(t1);
    print_result("ours", clients, before, after, snapshot(), dial_s, close_s);
    return 0;
  }
  if (scenario == "raw-shared") {
    {
      raw_shared warm;
      warm.dial({url("warm")}, 1);
      warm.close_all();
    }
    std::vector<std::string> urls;
    for (int i = 0; i < clients; ++i) urls.push_back(url("s" + std::to_string(i)));
    raw_shared shared;
    const readings before = snapshot();
    const auto blocks_before = block_counts();
    const auto threads_before = list_threads();
    const auto t0 = clock::now();
    shared.dial(urls, 50);
    const double dial_s = since(t0);
    std::this_thread::sleep_for(idle);
    const readings after = snapshot();
    print_blocks(blocks_before, block_counts());
    print_stacks(threads_before, clients);
    const auto t1 = clock::now();
    shared.close_all();
    const double close_s = since(t1);
    print_result("raw-shared", clients, before, after, snapshot(), dial_s, close_s);
    return 0;
  }
  if (scenario == "raw-threaded") {
    { raw_threaded warm(url("warm")); }
    std::vector<std::unique_ptr<raw_threaded>> all;
    all.reserve(static_cast<std::size_t>(clients));
    const readings before = snapshot();
    const auto blocks_before = block_counts();
    const auto threads_before = list_threads();
    const auto t0 = clock::now();
    for (int i = 0; i < clients; ++i)
      all.push_back(std::make_unique<raw_threaded>(url("t" + std::to_string(i))));
    const double dial_s = since(t0);
    std::this_thread::sleep_for(idle);
    const readings after = snapshot();
    print_blocks(blocks_before, block_counts());
    print_stacks(threads_before, clients);
    const auto t1 = clock::now();
    all.clear();
    const double close_s = since(t1);
    print_result("raw-threaded", clients, before, after, snapshot(), dial_s, close_s);
    return 0;
  }
  std::fprintf(stderr, "unknown scenario '%s'\n", scenario.c_str());
  return 2;
}

// ---- parent side ----------------------------------------------------------------------------

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool executable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

// Starts argv[0] with stdout on a pipe; returns the pid and the read end.
std::pair<pid_t, FILE*> spawn(const std::vector<std::string>& args) {
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

std::string read_line(FILE* f) {
  std::string line;
  for (int c; (c = std::fgetc(f)) != EOF && c != '\n';) line += static_cast<char>(c);
  return line;
}

readings parse_result(const std::string& line) {
  readings r;
  std::istringstream in(line);
  std::string tok;
  while (in >> tok) {
    const auto eq = tok.find('=');
    if (eq == std::string::npos || tok.compare(0, eq, "scenario") == 0) continue;
    r[tok.substr(0, eq)] = std::atof(tok.c_str() + eq + 1);
  }
  return r;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.empty() ? "n/a" : line;
}

std::string limit_text(int resource) {
  rlimit rl{};
  ::getrlimit(resource, &rl);
  return rl.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(rl.rlim_cur);
}

struct args {
  int clients = 1000;
  std::string server;  // path of wspulse-testserver
  bool in_process = false;
  std::string child;  // scenario, in a child
  std::string url;    // base URL, in a child
};

[[noreturn]] void usage(const char* argv0, int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: %s [--clients N] [--server PATH | --in-process]\n"
               "  --clients N    connections per scenario (default 1000)\n"
               "  --server PATH  the wspulse-testserver program (default: $WSPULSE_TESTSERVER,\n"
               "                 then the build's WSPULSE_TESTSERVER_PATH, then\n"
               "                 wspulse-testserver next to this program)\n"
               "  --in-process   run the test server inside each child instead (its memory\n"
               "                 per connection is then included: a fallback only)\n",
               argv0);
  std::exit(code);
}

args parse_args(int argc, char** argv) {
  args a;
  int i = 1;
  while (i < argc) {
    const std::string k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (k == "--help" || k == "-h") usage(argv[0], 0);
    if (k == "--in-process") {
      a.in_process = true;
      i += 1;
      continue;
    }
    if (v == nullptr) usage(argv[0], 2);
    if (k == "--clients") {
      a.clients = std::max(1, std::atoi(v));
    } else if (k == "--server") {
      a.server = v;
    } else if (k == "--child") {
      a.child = v;
    } else if (k == "--url") {
      a.url = v;
    } else {
      usage(argv[0], 2);
    }
    i += 2;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  args a = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  // Each client holds a socket, an epoll fd, an eventfd and a timerfd: raise the soft limit.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }

  if (!a.child.empty()) {
    try {
      if (a.in_process) {
        wspulse::testing::test_server server;
        return run_child(a.child, server.url(""), a.clients);
      }
      return run_child(a.child, a.url, a.clients);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %s: %s\n", a.child.c_str(), e.what());
      return 1;
    }
  }

  const std::string exe = self_exe();
  if (!a.in_process && a.server.empty()) {
    if (const char* env = std::getenv("WSPULSE_TESTSERVER")) a.server = env;
#ifdef WSPULSE_TESTSERVER_PATH
    if (a.server.empty()) a.server = WSPULSE_TESTSERVER_PATH;
#endif
    if (a.server.empty()) a.server = exe.substr(0, exe.rfind('/') + 1) + "wspulse-testserver";
  }
  if (!a.in_process && !executable(a.server)) {
    std::fprintf(stderr,
                 "wspulse-testserver not found at '%s' (use --server PATH); falling back to an "
                 "in-process server\n",
                 a.server.c_str());
    a.in_process = true;
  }

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("wspulse_client memory benchmark: RSS per idle connection, %d connections\n",
              a.clients);
  std::printf("command : %s\n", command.c_str());
  std::printf(
      "build   : g++ -std=c++17 -O2 -DNDEBUG -DASIO_STANDALONE -I. -Itestserver -pthread "
      "bench/bench_memory.cpp   (CMake target wspulse-bench-memory)\n");
  std::printf("machine : nproc %u, %s, loadavg %s\n", std::thread::hardware_concurrency(),
              cpu_model().c_str(), first_line("/proc/loadavg").substr(0, 14).c_str());
  std::printf(
      "limits  : RLIMIT_NPROC %s, threads-max %s, RLIMIT_NOFILE %s, RLIMIT_STACK %s "
      "(thread stack rw mapping %ld KiB)\n",
      limit_text(RLIMIT_NPROC).c_str(), first_line("/proc/sys/kernel/threads-max").c_str(),
      limit_text(RLIMIT_NOFILE).c_str(), limit_text(RLIMIT_STACK).c_str(), stack_rw_kib());

  pid_t server_pid = -1;
  FILE* server_out = nullptr;
  std::string base_url;
  if (a.in_process) {
    std::printf(
        "server  : IN-PROCESS in each child (fallback): the numbers include the "
        "server's side of each connection\n");
  } else {
    auto [pid, out] = spawn({a.server});
    server_pid = pid;
    server_out = out;
    const std::string ready = read_line(server_out);
    unsigned port = 0, control = 0;
    if (std::sscanf(ready.c_str(), "READY %u %u", &port, &control) != 2) {
      std::fprintf(stderr, "server did not start (got '%s')\n", ready.c_str());
      ::kill(server_pid, SIGTERM);
      ::waitpid(server_pid, nullptr, 0);
      return 1;
    }
    base_url = "ws://127.0.0.1:" + std::to_string(port);
    std::printf("server  : separate process %s (pid %d, port %u), defaults (pings every 20 s)\n",
                a.server.c_str(), static_cast<int>(server_pid), port);
  }
  std::printf(
      "method  : each scenario in a fresh child process; warm-up connection first; "
      "readings after %d connections idled 0.5 s\n\n",
      a.clients);
  std::fflush(stdout);

  const char* scenarios[] = {"ours", "ours-shared", "ours-inline", "raw-shared", "raw-threaded"};
  std::map<std::string, readings> results;
  std::map<std::string, std::string> blocks;  // BLOCKS line of each scenario
  std::map<std::string, std::string> stacks;  // STACKS line of each scenario
  int failures = 0;
  for (const char* s : scenarios) {
    std::vector<std::string> cargs = {exe, "--child", s, "--clients", std::to_string(a.clients)};
    if (a.in_process) {
      cargs.push_back("--in-process");
    } else {
      cargs.push_back("--url");
      cargs.push_back(base_url);
    }
    auto [pid, out] = spawn(cargs);
    std::string line, result;
    while (!(line = read_line(out)).empty() || !std::feof(out)) {
      if (line.rfind("RESULT ", 0) == 0) result = line;
      if (line.rfind("BLOCKS", 0) == 0) blocks[s] = line;
      if (line.rfind("STACKS", 0) == 0) stacks[s] = line;
    }
    std::fclose(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (result.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "scenario %s failed (status %d)\n", s, status);
      ++failures;
      continue;
    }
    results[s] = parse_result(result);
  }

  if (server_pid > 0) {
    ::kill(server_pid, SIGTERM);
    int status = 0;
    ::waitpid(server_pid, &status, 0);
    std::fclose(server_out);
  }

  const double n = a.clients;
  auto per = [&](const readings& r, const std::string& key) {
    const auto b = r.find("before." + key), e = r.find("after." + key);
    return b == r.end() || e == r.end() ? 0.0 : (e->second - b->second) / n;
  };
  std::printf("per connection, (after - before) / %d; KiB unless stated\n", a.clients);
  std::printf("%-13s %7s %7s %8s %8s %8s %8s %8s %8s %6s %6s %6s\n", "scenario", "VmRSS", "VmHWM",
              "threads", "stacks", "heap", "anon", "malloc", "freeRSS", "fds", "dial s", "close s");
  for (const char* s : scenarios) {
    if (!results.count(s)) continue;
    const readings& r = results[s];
    std::printf("%-13s %7.1f %7.1f %8.2f %8.1f %8.1f %8.1f %8.1f %8.1f %6.2f %6.2f %6.2f\n", s,
                per(r, "VmRSS"), per(r, "VmHWM"), per(r, "Threads"), per(r, "rss_stacks"),
                per(r, "rss_heap"), per(r, "rss_anon"), per(r, "malloc_inuse"),
                per(r, "VmRSS") - per(r, "malloc_inuse") - per(r, "rss_stacks"), per(r, "fds"),
                r.at("dial_s"), r.at("close_s"));
  }
  std::printf(
      "  VmRSS/VmHWM: resident / peak resident growth. threads, fds: count growth.\n"
      "  stacks: RSS of thread stack mappings; heap: RSS of [heap] (main malloc arena); anon: RSS\n"
      "  of other anonymous mappings (per-thread malloc arenas, large blocks); malloc: bytes in\n"
      "  use by malloc in every arena (mallinfo2); freeRSS = VmRSS - malloc - stacks (malloc's\n"
      "  free-but-resident pages, fragmentation, kernel-visible other).\n");

  if (results.count("ours")) {
    const readings& r = results["ours"];
    const double threads = per(r, "Threads");
    const double stacks = per(r, "rss_stacks");
    std::printf("\nours: %.1f KiB per connection (target <= 48 KiB): %s\n", per(r, "VmRSS"),
                per(r, "VmRSS") <= 48 ? "met" : "MISSED");
    std::printf(
        "  threads per client %.2f, stack RSS per thread %.1f KiB (%.0f stack mappings "
        "found for %.0f threads)\n",
        threads, threads > 0 ? stacks / threads : 0.0,
        r.count("after.stack_maps") ? r.at("after.stack_maps") : 0.0,
        r.count("after.Threads") ? r.at("after.Threads") : 0.0);
    std::printf(
        "  outside RSS: kernel stacks %.1f KiB per client (/proc/meminfo KernelStack, "
        "machine-wide)\n",
        per(r, "kernel_stacks"));
    std::printf(
        "  after closing every client: VmRSS %+.0f KiB vs before (kept by malloc / "
        "glibc's stack cache)\n",
        r.count("closed.VmRSS") ? r.at("closed.VmRSS") - r.at("before.VmRSS") : 0.0);
  }
  for (const char* s : {"ours-shared", "ours-inline"}) {
    if (!results.count(s)) continue;
    const double kib = per(results[s], "VmRSS");
    std::printf("\n%s: %.1f KiB per connection on a shared io_context (target <= 16 KiB): %s\n", s,
                kib, kib <= 16 ? "met" : "MISSED");
  }
  // Stack RSS by thread role.
  for (const char* s : {"ours", "ours-shared", "raw-threaded", "raw-shared"}) {
    if (!stacks.count(s) || stacks[s].size() <= 6) continue;
    std::printf("\n%s: stack RSS per connection by thread (creation order; blocked in):\n", s);
    std::istringstream in(stacks[s].substr(6));
    std::string tok;
    while (in >> tok) {
      const auto c1 = tok.find(':'), c2 = tok.rfind(':');
      const std::string nr = tok.substr(c1 + 1, c2 - c1 - 1);
      const char* what = nr == "232" || nr == "281" ? "epoll_wait: an io_context thread"
                         : nr == "202"              ? "futex: a condition variable wait"
                                                    : "syscall";
      std::printf("  thread #%d: %5.1f KiB  (%s %s)\n", std::atoi(tok.c_str()) + 1,
                  std::atof(tok.c_str() + c2 + 1), what, nr.c_str());
    }
  }
  // The heap blocks each connection keeps, largest share first.
  for (const char* s : {"ours", "ours-shared", "ours-inline", "raw-threaded", "raw-shared"}) {
    if (!blocks.count(s)) continue;
    std::vector<std::pair<double, double>> rows;  // (usable bytes, blocks per connection)
    std::istringstream in(blocks[s].substr(6));
    std::string tok;
    double total = 0;
    while (in >> tok) {
      const double size = std::atof(tok.c_str());
      const double count = std::atof(tok.c_str() + tok.find(':') + 1) / n;
      rows.emplace_back(size, count);
      total += size * count;
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& x, const auto& y) { return x.first * x.second > y.first * y.second; });
    std::printf("\n%s: heap blocks from operator new kept per connection: %.1f KiB; largest:\n", s,
                total / 1024);
    for (std::size_t i = 0; i < rows.size() && i < 8; ++i) {
      std::printf("  %6.0f B x %5.2f = %5.1f KiB\n", rows[i].first, rows[i].second,
                  rows[i].first * rows[i].second / 1024);
    }
  }
  using core_t =
      wspulse::detail::client_core<wspulse::json_codec, wspulse::null_logger,
                                   wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                   wspulse::buffer_bounds<>, wspulse::callback_thread,
                                   wspulse::null_metrics, wspulse::detail::plain_endpoint>;
  std::printf(
      "\nobject sizes (bytes): client_core %zu (send_queue<256> %zu, io_context %zu, "
      "websocketpp endpoint %zu), websocketpp connection %zu (read buffer %zu inline); "
      "raw asio_client connection %zu\n",
      sizeof(core_t), sizeof(wspulse::detail::send_queue<256>), sizeof(asio::io_context),
      sizeof(wspulse::detail::plain_endpoint),
      sizeof(wspulse::detail::plain_endpoint::connection_type),
      static_cast<std::size_t>(wspulse::detail::plain_client_config::connection_read_buffer_size),
      sizeof(raw_endpoint::connection_type));
  return failures == 0 ? 0 : 1;
}
