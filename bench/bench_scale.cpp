// wspulse_client benchmark — many clients in one process on ONE io_context run by one thread:
// time to connect all, resident memory per connection, threads, frames/s while every client
// exchanges, time to close all; and the same for raw websocketpp in the same run.
//
// Servers: `wspulse-testserver` programs in separate processes (--servers K, clients spread
// round-robin), so their side of every connection and their CPU stay out of the client's
// numbers. Each scenario runs in a fresh child process (this program with --child) against
// fresh servers, so one scenario's freed memory or server state cannot touch the next.
//
// Scenarios (every client alone in its own room: the server echoes a frame to the sender's room,
// so each client gets exactly its own frames back):
//   ours  wspulse::basic_client<json_codec, null_logger, ..., inline_callbacks> x N, all on one
//         asio::io_context run by one thread, dialed with async_dial (at most --dial-window in
//         flight), closed with async_close. on_message sends the next frame (send(): json_codec
//         encode of a fresh frame, the bounded queue; a refusal is counted, never retried).
//   raw   websocketpp asio_client (stub loggers): one endpoint on one io_context run by one
//         thread, N connections, TCP_NODELAY set (ours sets it), the same codec work (encode a
//         fresh frame per send, decode into a fresh frame per message) and the same dial window.
// Phases: one warm-up connection (opened and closed: code pages, statics), readings; dial N;
// idle 1 s, readings (idle RSS); every client sends --window frames and answers each echo with
// the next frame; after 1 s of that, frames are counted over --seconds; the senders stop, the
// last echoes drain; readings; close every client, readings.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "bench_support.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>
#include <websocketpp/logger/stub.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <sys/resource.h>  // setrlimit: one descriptor per connection
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using namespace wspulse::bench;
using std::chrono::milliseconds;
using std::chrono::seconds;
using wspulse::frame;

struct args {
  int clients = 10000;
  int servers = 8;
  int seconds = 5;
  int window = 1;         // frames in flight per client while exchanging
  int dial_window = 256;  // dials in flight
  std::string server;     // path of wspulse-testserver
  std::string only;       // run one scenario
  // child side
  std::string child;
  std::vector<std::string> urls;  // one base URL per server
  std::vector<int> server_pids;
};

// ---- what both scenarios count (written by the io thread, read by the main thread) ----------
struct counters {
  std::atomic<std::uint64_t> opened{0}, failed{0}, closed{0};
  std::atomic<std::uint64_t> sent{0}, received{0}, refused{0}, bad{0};
  std::atomic<bool> exchanging{false};
  std::mutex mu;
  std::condition_variable cv;
  void bump(std::atomic<std::uint64_t>& c) {
    c.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  }
  // Waits (bounded) until pred() holds; pred reads the atomics. Woken by bump(), and every
  // 10 ms for what the io thread counts without a wake-up (frames).
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::mutex> lock(mu);
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }
};

std::string make_payload(std::size_t size) {  // {"seq":1,"text":"the quick…"}, `size` bytes
  const std::string head = "{\"seq\":1,\"text\":\"", tail = "\"}";
  const std::string filler = "the quick brown fox jumps over the lazy dog ";
  std::string s = head;
  for (std::size_t i = 0; s.size() + tail.size() < size; ++i) s += filler[i % filler.size()];
  return s + tail;
}
const std::string payload = make_payload(64);

// One io_context, run by one thread for the child's whole life.
class io_thread {
 public:
  io_thread() : work_(asio::make_work_guard(io_)) {
    std::promise<pid_t> tid;
    thread_ = std::thread([this, &tid] {
      tid.set_value(current_tid());
      io_.run();
    });
    tid_ = tid.get_future().get();
  }
  ~io_thread() {
    work_.reset();
    thread_.join();
  }
  asio::io_context& io() { return io_; }
  pid_t tid() const { return tid_; }
  // Runs f on the io thread and waits for it.
  void run(std::function<void()> f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  pid_t tid_ = 0;
};

// ---- ours ----------------------------------------------------------------------------------
using ours_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger,
                                          wspulse::exponential_backoff<>, wspulse::heartbeat<>,
                                          wspulse::buffer_bounds<>, wspulse::inline_callbacks>;

class ours_fleet {
 public:
  ours_fleet(io_thread& io, counters& k, std::vector<std::string> urls)
      : io_(io), k_(k), urls_(std::move(urls)), clients_(urls_.size()) {}

  // io thread: starts up to `window` dials; each completion starts the next.
  void dial_all(std::size_t window) {
    for (std::size_t i = 0; i < std::min(window, urls_.size()); ++i) dial_next();
  }
  void send_first(int window) {  // io thread
    for (std::size_t i = 0; i < clients_.size(); ++i)
      for (int w = 0; w < window; ++w) send(i);
  }
  void close_all() {  // io thread
    for (auto& c : clients_) c.async_close([this] { k_.bump(k_.closed); });
  }
  void clear() { clients_.clear(); }  // io thread: every client is done

 private:
  void dial_next() {
    if (next_ >= urls_.size()) return;
    const std::size_t i = next_++;
    ours_client::options opts;
    opts.on_message([this, i](const frame& f) {
      if (f.event.size() != 5 || f.payload.size() != payload.size())
        k_.bad.fetch_add(1, std::memory_order_relaxed);
      k_.received.fetch_add(1, std::memory_order_relaxed);
      if (k_.exchanging.load(std::memory_order_relaxed)) send(i);
    });
    ours_client::async_dial(
        io_.io(), urls_[i], std::move(opts), [this, i](wspulse::reason why, ours_client c) {
          if (why) {
            if (k_.failed.load() == 0)
              std::fprintf(stderr, "ours: dial %zu failed: %s\n", i, why.message().c_str());
            k_.bump(k_.failed);
          } else {
            clients_[i] = std::move(c);
            k_.bump(k_.opened);
          }
          dial_next();
        });
  }
  void send(std::size_t i) {
    const std::error_code ec = clients_[i].send(frame{"", "bench", payload});
    if (ec)
      k_.refused.fetch_add(1, std::memory_order_relaxed);
    else
      k_.sent.fetch_add(1, std::memory_order_relaxed);
  }

  io_thread& io_;
  counters& k_;
  std::vector<std::string> urls_;
  std::vector<ours_client> clients_;  // io thread only
  std::size_t next_ = 0;
};

// ---- raw websocketpp -----------------------------------------------------------------------
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

class raw_fleet {
 public:
  raw_fleet(io_thread& io, counters& k, std::vector<std::string> urls)
      : k_(k), urls_(std::move(urls)), cons_(urls_.size()) {
    ep_.clear_access_channels(websocketpp::log::alevel::all);
    ep_.clear_error_channels(websocketpp::log::elevel::all);
    ep_.init_asio(&io.io());
  }
  void dial_all(std::size_t window) {  // io thread
    for (std::size_t i = 0; i < std::min(window, urls_.size()); ++i) dial_next();
  }
  void send_first(int window) {  // io thread
    for (std::size_t i = 0; i < cons_.size(); ++i)
      for (int w = 0; w < window; ++w) send(i);
  }
  void close_all() {  // io thread
    for (auto& con : cons_) {
      std::error_code ec;
      con->close(websocketpp::close::status::normal, "", ec);
      if (ec) k_.bump(k_.closed);
    }
  }
  void clear() { cons_.clear(); }  // io thread

 private:
  void dial_next() {
    if (next_ >= urls_.size()) return;
    const std::size_t i = next_++;
    std::error_code ec;
    auto con = ep_.get_connection(urls_[i], ec);
    if (ec) {
      k_.bump(k_.failed);
      return dial_next();
    }
    con->set_tcp_pre_init_handler([this, i](websocketpp::connection_hdl) {
      std::error_code ignored;
      cons_[i]->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    });
    con->set_open_handler([this](websocketpp::connection_hdl) {
      k_.bump(k_.opened);
      dial_next();
    });
    con->set_fail_handler([this](websocketpp::connection_hdl) {
      k_.bump(k_.failed);
      dial_next();
    });
    con->set_close_handler([this](websocketpp::connection_hdl) { k_.bump(k_.closed); });
    con->set_message_handler([this, i](websocketpp::connection_hdl, raw_endpoint::message_ptr m) {
      frame f;  // fresh, as ours hands one to on_message
      std::error_code dec;
      codec_.decode(m->get_payload(), f, dec);
      if (dec || f.event.size() != 5 || f.payload.size() != payload.size())
        k_.bad.fetch_add(1, std::memory_order_relaxed);
      k_.received.fetch_add(1, std::memory_order_relaxed);
      if (k_.exchanging.load(std::memory_order_relaxed)) send(i);
    });
    cons_[i] = con;
    ep_.connect(con);
  }
  void send(std::size_t i) {
    std::string out;
    std::error_code ec;
    codec_.encode(frame{"", "bench", payload}, out, ec);
    if (!ec) ec = cons_[i]->send(out, websocketpp::frame::opcode::text);
    if (ec)
      k_.refused.fetch_add(1, std::memory_order_relaxed);
    else
      k_.sent.fetch_add(1, std::memory_order_relaxed);
  }

  counters& k_;
  std::vector<std::string> urls_;
  raw_endpoint ep_;
  std::vector<raw_endpoint::connection_ptr> cons_;  // io thread only
  const wspulse::json_codec codec_{};
  std::size_t next_ = 0;
};

// ---- a scenario, in a child process ---------------------------------------------------------

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Progress on stderr: a 10,000-client run takes a while on a loaded machine.
void progress(const char* scenario, const char* what) {
  static const auto start = std::chrono::steady_clock::now();
  std::fprintf(stderr, "[%7.2f s] %s: %s\n", since(start), scenario, what);
}

template <class Fleet>
int run_scenario(const char* name, const args& a) {
  progress(name, "start");
  const auto n = static_cast<std::uint64_t>(a.clients);
  std::vector<std::string> urls;
  auto url = [&](std::size_t i) {
    const std::string id = std::string(name) + std::to_string(i);
    return a.urls[i % a.urls.size()] + "/ws?room=" + id + "&id=" + id;
  };
  io_thread io;
  {  // warm-up: one connection opened and closed
    counters k;
    Fleet warm(io, k, {url(a.clients)});
    io.run([&] { warm.dial_all(1); });
    if (!k.wait([&] { return k.opened + k.failed >= 1; }, seconds(30)) || k.failed != 0)
      throw std::runtime_error("warm-up dial failed");
    io.run([&] { warm.close_all(); });
    k.wait([&] { return k.closed >= 1; }, seconds(30));
    io.run([&] { warm.clear(); });
  }
  progress(name, "warmed up");
  for (std::size_t i = 0; i < n; ++i) urls.push_back(url(i));
  counters k;
  auto fleet = std::make_unique<Fleet>(io, k, std::move(urls));
  const status_readings before = read_status();
  const auto threads_before = count_threads();

  const auto t0 = std::chrono::steady_clock::now();
  io.run([&] { fleet->dial_all(static_cast<std::size_t>(a.dial_window)); });
  const bool all_dialed = k.wait([&] { return k.opened + k.failed >= n; }, seconds(600));
  const double dial_s = since(t0);
  if (!all_dialed || k.failed != 0) {
    std::fprintf(stderr, "%s: %llu of %llu connected, %llu failed after %.1f s\n", name,
                 static_cast<unsigned long long>(k.opened.load()),
                 static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(k.failed.load()), dial_s);
    std::_Exit(1);  // no orderly teardown of a half-dialed fleet
  }
  progress(name, "dialed");
  std::this_thread::sleep_for(seconds(1));
  const status_readings idle = read_status();
  const auto threads_idle = count_threads();

  // Exchange: warm-up 1 s, then count over the interval.
  progress(name, "idle read");
  k.exchanging = true;
  io.run([&] { fleet->send_first(a.window); });
  std::this_thread::sleep_for(seconds(1));
  const std::uint64_t sent0 = k.sent, recv0 = k.received;
  const std::int64_t io0 = thread_cpu_ns(io.tid());
  const auto srv0 = process_cpu_ns(a.server_pids);
  const auto t1 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(seconds(a.seconds));
  const double interval = since(t1);
  const std::uint64_t sent1 = k.sent, recv1 = k.received;
  const std::int64_t io1 = thread_cpu_ns(io.tid());
  const auto srv1 = process_cpu_ns(a.server_pids);
  const auto threads_busy = count_threads();
  progress(name, "counted");
  k.exchanging = false;
  // The frames in flight drain (bounded: the server drops none with --window <= 256).
  const bool drained = k.wait([&] { return k.received.load() >= k.sent.load(); }, seconds(120));
  const status_readings busy = read_status();

  progress(name, "drained");
  const auto t2 = std::chrono::steady_clock::now();
  io.run([&] { fleet->close_all(); });
  const bool all_closed = k.wait([&] { return k.closed >= n; }, seconds(600));
  const double close_s = since(t2);
  progress(name, "closed");
  io.run([&] { fleet->clear(); });
  fleet.reset();
  const status_readings closed = read_status();

  progress(name, "cleared");
  const double frames = static_cast<double>(recv1 - recv0);
  std::printf(
      "RESULT scenario=%s clients=%llu dial_s=%.3f close_s=%.3f idle_rss=%.1f idle_hwm=%.1f "
      "busy_rss=%.1f busy_hwm=%.1f closed_rss=%.1f before_rss=%.1f before_hwm=%.1f "
      "threads_before=%d threads_idle=%d threads_busy=%d sent_fps=%.0f recv_fps=%.0f "
      "io_us=%.2f srv_cpu=%.2f refused=%llu bad=%llu drained=%d closed_all=%d\n",
      name, static_cast<unsigned long long>(n), dial_s, close_s, idle.rss_kib, idle.hwm_kib,
      busy.rss_kib, busy.hwm_kib, closed.rss_kib, before.rss_kib, before.hwm_kib, threads_before,
      threads_idle, threads_busy, static_cast<double>(sent1 - sent0) / interval, frames / interval,
      frames > 0 ? static_cast<double>(io1 - io0) / frames / 1e3 : 0.0,
      static_cast<double>(srv1 - srv0) / 1e9 / interval,
      static_cast<unsigned long long>(k.refused.load()),
      static_cast<unsigned long long>(k.bad.load()), drained ? 1 : 0, all_closed ? 1 : 0);
  std::fflush(stdout);
  return drained && all_closed && k.bad == 0 ? 0 : 1;
}

// ---- parent side ----------------------------------------------------------------------------

struct server_proc {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string url;
};

std::vector<server_proc> start_servers(const args& a) {
  std::vector<server_proc> out;
  for (int s = 0; s < a.servers; ++s) {
    auto [pid, f] = spawn({a.server});
    server_proc p{pid, f, {}};
    unsigned port = 0, control = 0;
    const std::string ready = read_line(f);
    if (std::sscanf(ready.c_str(), "READY %u %u", &port, &control) != 2)
      throw std::runtime_error("server did not start (got '" + ready + "')");
    p.url = "ws://127.0.0.1:" + std::to_string(port);
    out.push_back(p);
  }
  return out;
}

void stop_servers(std::vector<server_proc>& servers) {
  for (auto& s : servers) ::kill(s.pid, SIGTERM);
  for (auto& s : servers) {
    ::waitpid(s.pid, nullptr, 0);
    std::fclose(s.out);
  }
  servers.clear();
}

[[noreturn]] void usage(const char* argv0, int code) {
  std::fprintf(
      code ? stderr : stdout,
      "usage: %s [--clients N] [--servers K] [--seconds S] [--window W] [--dial-window D]\n"
      "          [--server PATH] [--only ours|raw]\n"
      "  --clients N      connections per scenario, all on one io_context (default 10000)\n"
      "  --servers K      wspulse-testserver processes, clients spread over them (default 8)\n"
      "  --seconds S      length of the counted exchange (default 5)\n"
      "  --window W       frames in flight per client while exchanging (default 1, at most 256)\n"
      "  --dial-window D  dials in flight while connecting (default 256)\n"
      "  --server PATH    the wspulse-testserver program (default: $WSPULSE_TESTSERVER, the\n"
      "                   build's WSPULSE_TESTSERVER_PATH, then next to this program)\n"
      "  --only S         run scenario S only\n",
      argv0);
  std::exit(code);
}

args parse_args(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (k == "--help" || k == "-h") usage(argv[0], 0);
    if (v == nullptr) usage(argv[0], 2);
    if (k == "--clients") {
      a.clients = std::max(1, std::atoi(v));
    } else if (k == "--servers") {
      a.servers = std::max(1, std::atoi(v));
    } else if (k == "--seconds") {
      a.seconds = std::max(1, std::atoi(v));
    } else if (k == "--window") {
      a.window = std::clamp(std::atoi(v), 1, 256);
    } else if (k == "--dial-window") {
      a.dial_window = std::max(1, std::atoi(v));
    } else if (k == "--server") {
      a.server = v;
    } else if (k == "--only") {
      a.only = v;
    } else if (k == "--child") {
      a.child = v;
    } else if (k == "--url") {
      a.urls.push_back(v);
    } else if (k == "--server-pid") {
      a.server_pids.push_back(std::atoi(v));
    } else {
      usage(argv[0], 2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  args a = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  // One descriptor per connection here and in each server (children inherit the limit).
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }

  if (!a.child.empty()) {
    try {
      if (a.child == "ours") return run_scenario<ours_fleet>("ours", a);
      if (a.child == "raw") return run_scenario<raw_fleet>("raw", a);
      std::fprintf(stderr, "unknown scenario '%s'\n", a.child.c_str());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %s: %s\n", a.child.c_str(), e.what());
      return 1;
    }
  }

  const std::string exe = self_exe();
  if (a.server.empty()) a.server = find_testserver(exe);
  if (!executable(a.server)) {
    std::fprintf(stderr, "wspulse-testserver not found at '%s' (use --server PATH)\n",
                 a.server.c_str());
    return 1;
  }
  const auto per_server = static_cast<unsigned long long>((a.clients + a.servers - 1) / a.servers);
  const auto needed = static_cast<unsigned long long>(a.clients) + 64;
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("wspulse_client scale benchmark: %d clients on one io_context, one thread\n",
              a.clients);
  std::printf("command : %s\n", command.c_str());
  std::printf(
      "build   : g++ -std=c++17 -O2 -DNDEBUG -DASIO_STANDALONE -I. -Itestserver -pthread "
      "bench/bench_scale.cpp   (CMake target wspulse-bench-scale)\n");
  std::printf("machine : %s\n", machine_line().c_str());
  std::printf("limits  : RLIMIT_NOFILE %llu (raised to the hard limit %llu): %s\n",
              static_cast<unsigned long long>(nofile.rlim_cur),
              static_cast<unsigned long long>(nofile.rlim_max),
              nofile.rlim_cur >= needed ? "enough"
                                        : "TOO LOW for the clients: dials will fail (raise the "
                                          "hard limit: ulimit -Hn, limits.conf)");
  std::printf(
      "server  : %d x %s (separate processes, defaults: pings every 20 s, 512-byte limit), "
      "~%llu connections each, fresh per scenario\n",
      a.servers, a.server.c_str(), per_server);
  std::printf(
      "method  : each scenario in a fresh child; warm-up connection; dial all (%d in flight); idle "
      "1 s; exchange (%d in flight per client, each echo answered by the next frame, 64 B "
      "payload), 1 s warm-up then %d s counted; drain; close all\n\n",
      a.dial_window, a.window, a.seconds);
  std::fflush(stdout);

  std::vector<std::string> scenarios = {"ours", "raw"};
  if (!a.only.empty()) scenarios = {a.only};
  std::vector<std::pair<std::string, result_line>> results;
  int failures = 0;
  for (const auto& s : scenarios) {
    std::vector<server_proc> servers = start_servers(a);
    std::vector<std::string> cargs = {exe,
                                      "--child",
                                      s,
                                      "--clients",
                                      std::to_string(a.clients),
                                      "--seconds",
                                      std::to_string(a.seconds),
                                      "--window",
                                      std::to_string(a.window),
                                      "--dial-window",
                                      std::to_string(a.dial_window)};
    for (const auto& srv : servers) {
      cargs.insert(cargs.end(), {"--url", srv.url, "--server-pid", std::to_string(srv.pid)});
    }
    auto [pid, out] = spawn(cargs);
    std::string line, result;
    while (!(line = read_line(out)).empty() || !std::feof(out))
      if (line.rfind("RESULT ", 0) == 0) result = line;
    std::fclose(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    stop_servers(servers);
    if (result.empty()) {
      std::fprintf(stderr, "scenario %s failed (status %d)\n", s.c_str(), status);
      ++failures;
      continue;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
    results.emplace_back(s, parse_result(result));
  }

  const double n = a.clients;
  std::printf("%-5s %7s %7s %8s %8s %8s %7s %7s %9s %9s %7s %6s %7s %7s\n", "", "dial s", "close s",
              "idle KiB", "busy KiB", "HWM KiB", "threads", "thr exg", "sent/s", "recv/s",
              "io us/f", "srv", "refused", "rss x");
  const result_line* raw = nullptr;
  for (const auto& [s, r] : results)
    if (s == "raw") raw = &r;
  auto idle_per = [&](const result_line& r) { return (r.at("idle_rss") - r.at("before_rss")) / n; };
  for (const auto& [s, r] : results) {
    std::printf(
        "%-5s %7.2f %7.2f %8.1f %8.1f %8.1f %7.0f %7.0f %9.0f %9.0f %7.2f %6.2f %7.0f %7s\n",
        s.c_str(), r.at("dial_s"), r.at("close_s"), idle_per(r),
        (r.at("busy_rss") - r.at("before_rss")) / n, (r.at("busy_hwm") - r.at("before_hwm")) / n,
        r.at("threads_idle"), r.at("threads_busy"), r.at("sent_fps"), r.at("recv_fps"),
        r.at("io_us"), r.at("srv_cpu"), r.at("refused"),
        raw ? format("%.2f", idle_per(r) / idle_per(*raw)).c_str() : "-");
  }
  std::printf(
      "  dial s / close s: time to connect / close all. idle KiB: (VmRSS idle - VmRSS before) / "
      "N;\n"
      "  busy KiB: the same after the exchange; HWM KiB: VmHWM growth / N (peak). threads: in the\n"
      "  process when idle (main + io + any other), thr exg: while exchanging. sent/s, recv/s:\n"
      "  frames over the counted interval, all clients. io us/f: CPU of the io thread per frame\n"
      "  received (its send included). srv: CPU of the server processes, in cores. refused: sends\n"
      "  refused in the whole run. rss x: idle KiB / raw's.\n");
  for (const auto& [s, r] : results) {
    if (r.at("bad") != 0 || r.at("drained") == 0 || r.at("closed_all") == 0)
      std::printf("ERROR %s: %.0f bad frames, drained %s, all closed %s\n", s.c_str(), r.at("bad"),
                  r.at("drained") ? "yes" : "NO", r.at("closed_all") ? "yes" : "NO");
  }
  for (const auto& [s, r] : results) {
    if (s != "ours") continue;
    std::printf(
        "\nours: %.1f KiB per idle connection on a shared io_context (target <= 16 KiB): %s\n",
        idle_per(r), idle_per(r) <= 16 ? "met" : "MISSED");
  }
  return failures == 0 ? 0 : 1;
}
