// wspulse_client benchmark — loopback throughput and echo latency of basic_client, against raw
// websocketpp doing the same work in the same run.
//
// Server: the bundled wspulse::testing::test_server, in-process, server pings off. In-process
// because the server->client case drives test_server::broadcast() once per frame (the HTTP
// control API of the separate program would cost one HTTP request per frame and measure
// itself), and because on a 2-core machine a separate process competes for the same cores
// anyway. CPU time is measured per thread, so the server's share is shown apart.
//
// Clients, each on its own connection and alone in its own room (the server echoes every frame
// to the sender's room, so each client gets exactly its own frames back):
//   ours          wspulse::basic_client<json_codec, null_logger>: send_for() encodes with
//                 json_codec and queues (bounded, 256 frames; a full queue makes the sender
//                 wait for room), the I/O thread writes, on_message gets decoded frames on the
//                 callback thread.
//   ours inline   the same with inline_callbacks on its own io_context: on_message runs on the
//                 I/O thread (no callback thread, no hand-off).
//   ours shared   inline_callbacks on an io_context the benchmark runs with one thread of its own
//                 (dial(io, url)): the application's-io_context mode, one client on it.
//   raw + codec   websocketpp asio_client (stub loggers, own io thread) doing the same codec
//                 work: json_codec::encode of a fresh frame per send, json_codec::decode into a
//                 fresh frame per message (what ours does). con->send() from the sending thread
//                 (websocketpp locks and posts the write to its io thread); its queue is
//                 unbounded, so it never refuses. THE baseline of every ratio.
//   raw           the same websocketpp client sending pre-encoded bytes and only counting.
//   raw+c seeded  raw + codec with one change: the per-frame masking key comes from a std::mt19937
//                 seeded once, not from std::random_device (websocketpp's default, which ours
//                 uses too). A reference row: what that call costs on this machine.
//
// Cases, per payload size (64 B, 1 KiB, 16 KiB of JSON; the frame is
// {"event":"bench","payload":<payload>}):
//   client->server  N frames sent as fast as send() accepts; done when the N-th echo arrived
//                   (exact end condition, identical for every client; it makes this a full-duplex
//                   measure: N frames out and N echoes in).
//   server->client  the main thread calls test_server::broadcast(room, frame) N times; done when
//                   the client's message handler counted N.
//   flood->client   a raw peer (bench/flood_peer.hpp, one per client) writes N pre-encoded,
//                   unmasked frames in one go; done when the N-th was handled. Its sender is
//                   faster than any client (server->client is bound by test_server::broadcast).
//   echo RTT        one frame at a time: send, wait for its echo; time from before encode/send to
//                   the message handler (after decode); warm-up then --rtt round trips.
// Timing: wall time from the first send to the N-th message handler call. CPU time per thread
// (kernel per-thread clocks) and context switches (/proc/self/task/<tid>/status) are reported
// too: on a shared machine they are steadier than wall time, which also measures whoever else
// runs. Every case runs --reps times per run (clients interleaved, rotating order); the median
// is printed.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "flood_peer.hpp"
#include "wspulse_testserver.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>
#include <websocketpp/logger/stub.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>  // opendir: the process's threads under /proc/self/task
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>  // seeded_generator
#include <set>
#include <stdexcept>
#include <string>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using std::chrono::seconds;
using wspulse::errc;
using wspulse::frame;

// ---- clocks and threads ---------------------------------------------------------------------

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

using wspulse::bench::current_tid;
using wspulse::bench::first_line;
using wspulse::bench::thread_cpu_ns;  // by kernel thread id: the client's threads are its own

std::int64_t cpu_ns(const std::vector<pid_t>& tids) {
  std::int64_t sum = 0;
  for (pid_t t : tids) sum += thread_cpu_ns(t);
  return sum;
}

// Context switches of those threads (voluntary: it slept; involuntary: it was preempted).
std::int64_t switches(const std::vector<pid_t>& tids) {
  std::int64_t sum = 0;
  for (pid_t t : tids) {
    std::ifstream in("/proc/self/task/" + std::to_string(t) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("ctxt_switches:") != std::string::npos)
        sum += std::atoll(line.c_str() + line.find(':') + 1);
    }
  }
  return sum;
}

std::set<pid_t> list_threads() {
  std::set<pid_t> out;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') out.insert(static_cast<pid_t>(std::atoi(e->d_name)));
    }
    ::closedir(d);
  }
  return out;
}

std::vector<pid_t> new_threads(const std::set<pid_t>& before) {
  std::vector<pid_t> out;
  for (pid_t t : list_threads())
    if (before.count(t) == 0) out.push_back(t);
  return out;
}

// ---- what each client's message handler reports ---------------------------------------------

// Counts messages, remembers when the last one arrived, and wakes a waiter at a target count.
// The handler thread pays two atomics and a clock read per message (the same for every client).
class inbox {
 public:
  void arrived() {
    last_ns_.store(now_ns(), std::memory_order_relaxed);
    const std::uint64_t n = count_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (n == target_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  }
  std::uint64_t count() const { return count_.load(std::memory_order_acquire); }
  std::int64_t last_ns() const { return last_ns_.load(std::memory_order_relaxed); }
  void reset() {
    count_.store(0);
    target_.store(0);
  }
  // Waits until `n` messages arrived in total.
  bool wait(std::uint64_t n, seconds timeout) {
    target_.store(n, std::memory_order_release);
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count() >= n; });
  }
  std::atomic<std::uint64_t> bad{0};  // decoded frames that were not what was sent

 private:
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> target_{0};
  std::atomic<std::int64_t> last_ns_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

// What a message handler does with a decoded frame: look at it (so the work is not dead code).
void check(const frame& f, inbox& in) {
  if (f.event.size() != 5 || f.payload.empty()) in.bad.fetch_add(1, std::memory_order_relaxed);
}

// ---- the clients ----------------------------------------------------------------------------

std::atomic<bool> measuring{true};  // false from the teardown on

class driver {
 public:
  virtual ~driver() = default;
  virtual const char* name() const = 0;
  // Sends one frame whose payload is `payload` (`wire` is its encoded form); retries while the
  // client refuses with send_buffer_full. Returns the number of refusals.
  virtual std::uint64_t send_frame(const std::string& payload, const std::string& wire) = 0;
  // Threads whose CPU time is this client's (not the sending thread).
  const std::vector<pid_t>& threads() const { return threads_; }
  const std::string& room() const { return room_; }
  inbox in;

 protected:
  std::vector<pid_t> threads_;
  std::string room_;
};

template <class Dispatch>
using ours_client =
    wspulse::basic_client<wspulse::json_codec, wspulse::null_logger, wspulse::exponential_backoff<>,
                          wspulse::heartbeat<>, wspulse::buffer_bounds<>, Dispatch>;

// An io_context run by one thread of its own: the application's io_context of `ours shared`.
class shared_io {
 public:
  shared_io() : work_(asio::make_work_guard(io_)) {
    std::promise<pid_t> tid;
    thread_ = std::thread([this, &tid] {
      tid.set_value(current_tid());
      io_.run();
    });
    tid_ = tid.get_future().get();
  }
  ~shared_io() {
    work_.reset();
    thread_.join();
  }
  asio::io_context& io() { return io_; }
  pid_t tid() const { return tid_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  pid_t tid_ = 0;
};

// Ours with either dispatch policy, on its own io_context or (shared) on one the benchmark runs.
template <class Dispatch>
class ours_driver final : public driver {
 public:
  ours_driver(const std::string& url, std::string room, const char* name, bool shared)
      : name_(name) {
    room_ = std::move(room);
    typename ours_client<Dispatch>::options opts;
    opts.on_message([this](const frame& f) {
      check(f, in);
      in.arrived();
    });
    // A drop while measuring invalidates the figures (and strands a flood peer's frames).
    opts.on_transport_drop([this](const wspulse::reason& r) {
      if (!measuring.load()) return;  // the teardown's hang-ups and closes
      std::fprintf(stderr, "%s: transport dropped: %s (close %u %s)\n", name_,
                   r.code.message().c_str(), r.close_code, r.close_text.c_str());
    });
    if (shared) {
      io_ = std::make_unique<shared_io>();
      client_ = ours_client<Dispatch>::dial(io_->io(), url, std::move(opts));
      threads_.push_back(io_->tid());  // the application's thread: everything of the client
    } else {
      const auto before = list_threads();
      client_ = ours_client<Dispatch>::dial(url, std::move(opts));
      threads_ = new_threads(before);  // its I/O thread (and callback thread)
    }
  }
  ~ours_driver() override { client_.close(); }
  const char* name() const override { return name_; }

  // send_for waits for room, so a bulk sender needs no retry loop; a refusal is now a
  // second without room (never expected).
  std::uint64_t send_frame(const std::string& payload, const std::string&) override {
    for (std::uint64_t refused = 0;; ++refused) {
      const std::error_code ec = client_.send_for({"", "bench", payload}, std::chrono::seconds(1));
      if (!ec) return refused;
      if (ec != errc::send_buffer_full) throw std::runtime_error("send: " + ec.message());
    }
  }

 private:
  const char* const name_;
  std::unique_ptr<shared_io> io_;  // declared before client_: outlives it
  ours_client<Dispatch> client_;
};

struct raw_config : websocketpp::config::asio_client {
  using alog_type = websocketpp::log::stub;
  using elog_type = websocketpp::log::stub;
  struct transport_config : websocketpp::config::asio_client::transport_config {
    using alog_type = websocketpp::log::stub;
    using elog_type = websocketpp::log::stub;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};

// The same, except for the masking key of each outgoing frame: websocketpp's client configs
// draw it from std::random_device (one call per frame), this one from a std::mt19937 seeded
// once from std::random_device. A reference row only (never a baseline): it shows what the
// per-frame random_device call costs on the machine, in ours and in raw alike.
template <typename Int, typename Concurrency>
class seeded_generator {
 public:
  seeded_generator() : rng_(std::random_device{}()) {}
  Int operator()() {
    typename Concurrency::scoped_lock_type guard(lock_);
    return dist_(rng_);
  }

 private:
  typename Concurrency::mutex_type lock_;
  std::mt19937 rng_;
  std::uniform_int_distribution<Int> dist_;
};

struct seeded_config : raw_config {
  using rng_type = seeded_generator<std::uint32_t, concurrency_type>;
};

template <class Config>
class raw_driver final : public driver {
  using raw_endpoint = websocketpp::client<Config>;

 public:
 public:
  raw_driver(const std::string& url, std::string room, bool codec, const char* name)
      : codec_(codec), name_(name) {
    room_ = std::move(room);
    endpoint_.clear_access_channels(websocketpp::log::alevel::all);
    endpoint_.clear_error_channels(websocketpp::log::elevel::all);
    endpoint_.init_asio(&io_);
    std::error_code ec;
    con_ = endpoint_.get_connection(url, ec);
    if (ec) throw std::runtime_error("raw client: " + ec.message());
    std::promise<bool> opened;
    auto opened_future = opened.get_future();
    con_->set_open_handler([&opened](websocketpp::connection_hdl) { opened.set_value(true); });
    con_->set_fail_handler([&opened](websocketpp::connection_hdl) { opened.set_value(false); });
    con_->set_close_handler([this](websocketpp::connection_hdl) { closed_.set_value(); });
    con_->set_message_handler([this](websocketpp::connection_hdl,
                                     typename raw_endpoint::message_ptr msg) { on_message(msg); });
    endpoint_.connect(con_);
    std::promise<pid_t> tid;
    thread_ = std::thread([this, &tid] {
      tid.set_value(current_tid());
      io_.run();
    });
    threads_.push_back(tid.get_future().get());
    if (!opened_future.get()) {
      io_.stop();
      thread_.join();
      throw std::runtime_error("raw client: connect failed");
    }
  }
  ~raw_driver() override {
    std::error_code ec;
    con_->close(websocketpp::close::status::normal, "", ec);
    if (ec || closed_.get_future().wait_for(seconds(5)) != std::future_status::ready) io_.stop();
    thread_.join();
  }
  const char* name() const override { return name_; }

  std::uint64_t send_frame(const std::string& payload, const std::string& wire) override {
    std::error_code ec;
    if (codec_) {
      const frame f{"", "bench", payload};
      std::string out;
      codec_impl_.encode(f, out, ec);
      if (!ec) ec = con_->send(out, websocketpp::frame::opcode::text);
    } else {
      ec = con_->send(wire, websocketpp::frame::opcode::text);
    }
    if (ec) throw std::runtime_error("raw send: " + ec.message());
    return 0;
  }

 private:
  void on_message(const typename raw_endpoint::message_ptr& msg) {
    if (codec_) {
      frame f;  // fresh, as ours hands one to on_message
      std::error_code ec;
      codec_impl_.decode(msg->get_payload(), f, ec);
      if (ec) in.bad.fetch_add(1, std::memory_order_relaxed);
      check(f, in);
    }
    in.arrived();
  }

  const bool codec_;
  const char* const name_;
  const wspulse::json_codec codec_impl_{};
  asio::io_context io_;
  raw_endpoint endpoint_;
  typename raw_endpoint::connection_ptr con_;
  std::promise<void> closed_;
  std::thread thread_;
};

// Every kind of client, each alone in its room; url_of(room) is where it connects.
std::vector<std::unique_ptr<driver>> make_drivers(
    const std::function<std::string(const std::string&)>& url_of) {
  std::vector<std::unique_ptr<driver>> d;
  d.push_back(std::make_unique<ours_driver<wspulse::callback_thread>>(url_of("b-ours"), "b-ours",
                                                                      "ours", false));
  d.push_back(std::make_unique<ours_driver<wspulse::basic_callback_thread<0>>>(
      url_of("b-nospin"), "b-nospin", "ours no spin", false));
  d.push_back(std::make_unique<ours_driver<wspulse::inline_callbacks>>(url_of("b-inl"), "b-inl",
                                                                       "ours inline", false));
  d.push_back(std::make_unique<ours_driver<wspulse::inline_callbacks>>(url_of("b-shr"), "b-shr",
                                                                       "ours shared", true));
  d.push_back(
      std::make_unique<raw_driver<raw_config>>(url_of("b-rawc"), "b-rawc", true, "raw + codec"));
  d.push_back(std::make_unique<raw_driver<raw_config>>(url_of("b-raw"), "b-raw", false, "raw"));
  d.push_back(std::make_unique<raw_driver<seeded_config>>(url_of("b-seed"), "b-seed", true,
                                                          "raw+c seeded"));
  return d;
}

// ---- the cases --------------------------------------------------------------------------------

// Exactly `size` bytes of JSON: {"seq":1,"text":"aaaa…"}.
std::string make_payload(std::size_t size) {
  const std::string head = "{\"seq\":1,\"text\":\"";
  const std::string tail = "\"}";
  std::string s = head;
  const std::string filler = "the quick brown fox jumps over the lazy dog ";
  for (std::size_t i = 0; s.size() + tail.size() < size; ++i) s += filler[i % filler.size()];
  return s + tail;
}

struct sample {
  double fps = 0;       // frames per second
  double cli_us = 0;    // CPU µs per frame of the client's own threads
  double snd_us = 0;    // CPU µs per frame of the sending thread (client→server only)
  double srv_us = 0;    // CPU µs per frame of the server thread
  double switches = 0;  // context switches per frame of the client's own threads
  double refused = 0;   // send_buffer_full refusals per frame
  bool ok = true;
};

struct context {
  wspulse::testing::test_server* server = nullptr;
  pid_t server_tid = 0;
  pid_t main_tid = 0;
};

// Resource use of a set of threads, for differences across a case.
struct usage {
  std::int64_t cli = 0, snd = 0, srv = 0, cs = 0;
  static usage now(const context& cx, const driver& d, bool sending) {
    usage u;
    u.cli = cpu_ns(d.threads());
    u.snd = sending ? thread_cpu_ns(cx.main_tid) : 0;
    u.srv = thread_cpu_ns(cx.server_tid);
    u.cs = switches(d.threads());
    return u;
  }
};

sample finish(const context& cx, const driver& d, const usage& u0, std::int64_t t0, bool sending,
              std::uint64_t n, bool ok) {
  const usage u1 = usage::now(cx, d, sending);
  const double nn = static_cast<double>(n);
  sample r;
  r.ok = ok;
  r.fps = nn * 1e9 / static_cast<double>(d.in.last_ns() - t0);
  r.cli_us = static_cast<double>(u1.cli - u0.cli) / nn / 1e3;
  r.snd_us = static_cast<double>(u1.snd - u0.snd) / nn / 1e3;
  r.srv_us = static_cast<double>(u1.srv - u0.srv) / nn / 1e3;
  r.switches = static_cast<double>(u1.cs - u0.cs) / nn;
  return r;
}

// Waits (120 s at most) for the case's n-th message; says on stderr which client missed.
bool arrived_in_time(driver& d, const char* what, std::uint64_t n) {
  if (d.in.wait(n, seconds(120))) return true;
  std::fprintf(stderr, "%s: %s: %llu of %llu messages after 120 s\n", d.name(), what,
               static_cast<unsigned long long>(d.in.count()), static_cast<unsigned long long>(n));
  return false;
}

sample client_to_server(context& cx, driver& d, const std::string& payload, const std::string& wire,
                        std::uint64_t n) {
  d.in.reset();
  const usage u0 = usage::now(cx, d, true);
  const std::int64_t t0 = now_ns();
  std::uint64_t refused = 0;
  for (std::uint64_t i = 0; i < n; ++i) refused += d.send_frame(payload, wire);
  const bool ok = arrived_in_time(d, "client->server", n);
  sample r = finish(cx, d, u0, t0, true, n, ok);
  r.refused = static_cast<double>(refused) / static_cast<double>(n);
  cx.server->clear_received();  // the server keeps every message it received
  return r;
}

sample server_to_client(context& cx, driver& d, const std::string& wire, std::uint64_t n) {
  d.in.reset();
  const usage u0 = usage::now(cx, d, false);
  const std::int64_t t0 = now_ns();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (cx.server->broadcast(d.room(), wire) != 1) throw std::runtime_error("broadcast missed");
  }
  const bool ok = arrived_in_time(d, "server->client", n);
  return finish(cx, d, u0, t0, false, n, ok);
}

sample flood_to_client(context& cx, driver& d, wspulse::bench::flood_peer& peer,
                       const std::string& frames, std::uint64_t n) {
  d.in.reset();
  const usage u0 = usage::now(cx, d, false);
  const std::int64_t peer0 = thread_cpu_ns(peer.tid());
  const std::int64_t t0 = now_ns();
  peer.write(frames);
  const bool ok = arrived_in_time(d, "flood->client", n) && peer.written(seconds(10));
  sample r = finish(cx, d, u0, t0, false, n, ok);
  r.srv_us = static_cast<double>(thread_cpu_ns(peer.tid()) - peer0) / static_cast<double>(n) / 1e3;
  return r;
}

struct latency {
  double p50 = 0, p99 = 0;
  double cli_us = 0, snd_us = 0, switches = 0;  // per round trip
  bool ok = true;
};

latency echo_rtt(context& cx, driver& d, const std::string& payload, const std::string& wire,
                 int warmup, int n) {
  d.in.reset();
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(n));
  latency r;
  usage u0;
  for (int i = 0; i < warmup + n; ++i) {
    if (i == warmup) u0 = usage::now(cx, d, true);
    const std::int64_t t0 = now_ns();
    d.send_frame(payload, wire);
    if (!d.in.wait(static_cast<std::uint64_t>(i) + 1, seconds(10))) {
      r.ok = false;
      break;
    }
    if (i >= warmup) us.push_back(static_cast<double>(d.in.last_ns() - t0) / 1e3);
  }
  const usage u1 = usage::now(cx, d, true);
  cx.server->clear_received();
  if (us.empty()) return r;
  const double rounds = static_cast<double>(us.size());
  r.cli_us = static_cast<double>(u1.cli - u0.cli) / rounds / 1e3;
  r.snd_us = static_cast<double>(u1.snd - u0.snd) / rounds / 1e3;
  r.switches = static_cast<double>(u1.cs - u0.cs) / rounds;
  std::sort(us.begin(), us.end());
  r.p50 = us[us.size() / 2];
  r.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---- reporting ----------------------------------------------------------------------------

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string size_label(std::size_t size) {
  return size >= 1024 ? std::to_string(size / 1024) + " KiB" : std::to_string(size) + " B";
}

struct options {
  int reps = 3;
  int rtt = 2000;
  int warmup = 200;
  double scale = 1.0;  // multiplies the frame counts
};

[[noreturn]] void usage(const char* argv0, int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: %s [--reps R] [--rtt N] [--scale F]\n"
               "  --reps R   repetitions of every case per run, median printed (default 3)\n"
               "  --rtt N    echo round trips per latency sample, after 200 warm-up (default "
               "2000)\n"
               "  --scale F  multiplies the throughput frame counts (default 1.0)\n",
               argv0);
  std::exit(code);
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; i += 2) {  // every option but --help takes a value
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--help" || a == "-h") usage(argv[0], 0);
    if (v == nullptr) usage(argv[0], 2);
    if (a == "--reps") {
      o.reps = std::max(1, std::atoi(v));
    } else if (a == "--rtt") {
      o.rtt = std::max(100, std::atoi(v));
    } else if (a == "--scale") {
      o.scale = std::max(0.01, std::atof(v));
    } else {
      usage(argv[0], 2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options opt = parse_args(argc, argv);
  const std::size_t sizes[] = {64, 1024, 16384};
  const std::uint64_t counts[] = {20000, 10000, 2000};  // per case, before --scale

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  utsname un{};
  ::uname(&un);
  std::printf("wspulse_client loopback benchmark: basic_client vs raw websocketpp, same run\n");
  std::printf("command : %s\n", command.c_str());
  std::printf(
      "build   : g++ -std=c++17 -O2 -DNDEBUG -DASIO_STANDALONE -I. -Itestserver -pthread "
      "bench/bench_client.cpp   (CMake target wspulse-bench-client)\n");
  std::printf("machine : nproc %u, %s, %s %s, loadavg %s\n", std::thread::hardware_concurrency(),
              cpu_model().c_str(), un.sysname, un.release,
              first_line("/proc/loadavg").substr(0, 14).c_str());
  std::printf("compiler: %s, websocketpp %s, asio %d.%d.%d\n", __VERSION__, websocketpp::user_agent,
              ASIO_VERSION / 100000, ASIO_VERSION / 100 % 1000, ASIO_VERSION % 100);
  std::printf("server  : in-process wspulse::testing::test_server on 127.0.0.1, pings off\n");
  std::printf(
      "method  : median of %d reps per case, clients interleaved\n"
      "  frames/s  N / (first send .. N-th message handler call); MB/s: payload bytes, 10^6 B/s\n"
      "  cli us/f  CPU time per frame of the client's own threads (io, callback, Asio resolver)\n"
      "  snd us/f  CPU time per frame of the sending thread (encode, send, retries)\n"
      "  srv us/f  CPU time per frame of the server thread; cs/f: context switches per frame of\n"
      "            the client's own threads; refused/f: send_buffer_full answers per frame\n"
      "  time x    raw+codec frames/s / frames/s (time per frame relative to raw + codec)\n"
      "  cpu x     (cli + snd) / raw+codec's (cli + snd)\n\n",
      opt.reps);
  std::fflush(stdout);

  wspulse::testing::server_options so;
  so.ping_ms = 0;
  so.max_message = 0;  // 1 KiB and 16 KiB frames, above the hub's default 512-byte limit
  // The hub's 256-frame send buffer drops the oldest echo when a client reads slower than it
  // sends (every burst here): a lost echo would stall the case. Large enough never to drop.
  so.send_buffer = std::size_t{1} << 20;
  const auto before_server = list_threads();
  wspulse::testing::test_server server(so);
  context cx;
  cx.server = &server;
  const auto server_threads = new_threads(before_server);
  if (server_threads.size() != 1) {
    std::fprintf(stderr, "expected one server thread, found %zu\n", server_threads.size());
    return 1;
  }
  cx.server_tid = server_threads.front();
  cx.main_tid = current_tid();

  std::vector<std::unique_ptr<driver>> drivers = make_drivers([&server](const std::string& room) {
    return server.url("/ws?room=" + room + "&id=" + room);
  });
  // The flood case's clients: the same kinds, each connected to a flood_peer of its own.
  std::vector<std::unique_ptr<wspulse::bench::flood_peer>> peers;
  std::vector<std::unique_ptr<driver>> flooded = make_drivers([&peers](const std::string&) {
    peers.push_back(std::make_unique<wspulse::bench::flood_peer>());
    return peers.back()->url();
  });
  const std::size_t nd = drivers.size();
  constexpr std::size_t n_ours = 4;  // drivers[0..3] are ours; the ratios' baseline follows
  constexpr std::size_t base = 4;    // raw + codec
  // Wait until the server has registered every connection (broadcast needs them).
  for (int i = 0; i < 500 && server.connections().size() < nd; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  bool all_ok = true;
  struct summary_row {  // each ours row against raw + codec (time, cpu); 0 = not measured
    std::string what;
    double wall[n_ours], cpu[n_ours];
  };
  std::vector<summary_row> summary;

  const char* const titles[] = {
      "client → server: N frames sent as fast as send() accepts; done when the N-th echo is back",
      "server → client: test_server::broadcast() N times from the main thread; done when N were "
      "handled",
      "flood → client: a raw peer writes N pre-encoded frames at once (srv us/f: its thread); done "
      "when N were handled"};
  for (int dir = 0; dir < 3; ++dir) {
    std::vector<std::unique_ptr<driver>>& ds = dir == 2 ? flooded : drivers;
    std::printf("%s\n", titles[dir]);
    std::printf("%-7s %6s %-12s %9s %7s %8s %8s %8s %6s %9s %6s %6s\n", "payload", "N", "client",
                "frames/s", "MB/s", "cli us/f", "snd us/f", "srv us/f", "cs/f", "refused/f",
                "time x", "cpu x");
    for (std::size_t si = 0; si < 3; ++si) {
      const std::size_t size = sizes[si];
      const auto n = static_cast<std::uint64_t>(static_cast<double>(counts[si]) * opt.scale);
      const std::string payload = make_payload(size);
      std::string wire;
      std::error_code ec;
      wspulse::json_codec{}.encode(frame{"", "bench", payload}, wire, ec);
      const std::uint64_t warm = std::max<std::uint64_t>(n / 10, 10);
      std::string flood, warm_flood;  // n (a tenth of n) unmasked server frames, back to back
      if (dir == 2) {
        const std::string one = wspulse::test_support::server_frame(1, wire);
        for (std::uint64_t i = 0; i < n; ++i) flood += one;
        warm_flood = flood.substr(0, one.size() * warm);
      }
      auto run_case = [&](std::size_t k, std::uint64_t frames) {
        driver& d = *ds[k];
        if (dir == 0) return client_to_server(cx, d, payload, wire, frames);
        if (dir == 1) return server_to_client(cx, d, wire, frames);
        return flood_to_client(cx, d, *peers[k], frames == n ? flood : warm_flood, frames);
      };
      for (std::size_t k = 0; k < nd; ++k) run_case(k, warm);  // warm-up, every client
      std::vector<std::vector<sample>> got(nd);
      for (int rep = 0; rep < opt.reps; ++rep) {
        for (std::size_t k = 0; k < nd; ++k) {
          const std::size_t idx = (k + static_cast<std::size_t>(rep)) % nd;
          got[idx].push_back(run_case(idx, n));
        }
      }
      std::vector<sample> med(nd);
      for (std::size_t k = 0; k < nd; ++k) {
        std::vector<double> fps, cli, snd, srv, ref, cs;
        for (const auto& s : got[k]) {
          all_ok = all_ok && s.ok;
          fps.push_back(s.fps);
          cli.push_back(s.cli_us);
          snd.push_back(s.snd_us);
          srv.push_back(s.srv_us);
          ref.push_back(s.refused);
          cs.push_back(s.switches);
        }
        med[k].fps = median(fps);
        med[k].cli_us = median(cli);
        med[k].snd_us = median(snd);
        med[k].srv_us = median(srv);
        med[k].refused = median(ref);
        med[k].switches = median(cs);
      }
      auto cpu = [](const sample& s) { return s.cli_us + s.snd_us; };
      for (std::size_t k = 0; k < nd; ++k) {
        const sample& s = med[k];
        std::printf("%-7s %6s %-12s %9.0f %7.1f %8.2f %8.2f %8.2f %6.2f %9.3f %6.2f %6.2f\n",
                    k == 0 ? size_label(size).c_str() : "", k == 0 ? std::to_string(n).c_str() : "",
                    drivers[k]->name(), s.fps, s.fps * static_cast<double>(size) / 1e6, s.cli_us,
                    s.snd_us, s.srv_us, s.switches, s.refused, med[base].fps / s.fps,
                    cpu(s) / cpu(med[base]));
      }
      const char* const labels[] = {"c->s ", "s->c ", "flood "};
      summary_row row{labels[dir] + size_label(size), {}, {}};
      for (std::size_t k = 0; k < n_ours; ++k) {
        row.wall[k] = med[base].fps / med[k].fps;
        row.cpu[k] = cpu(med[k]) / cpu(med[base]);
      }
      summary.push_back(row);
      std::fflush(stdout);
    }
    std::printf("\n");
  }

  std::printf("echo round trip: one frame at a time, %d warm-up + %d round trips, us\n", opt.warmup,
              opt.rtt);
  std::printf("%-7s %-12s %8s %8s %8s %8s %6s %6s %6s\n", "payload", "client", "p50", "p99",
              "cli us", "snd us", "cs", "p50 x", "p99 x");
  for (std::size_t size : sizes) {
    const std::string payload = make_payload(size);
    std::string wire;
    std::error_code ec;
    wspulse::json_codec{}.encode(frame{"", "bench", payload}, wire, ec);
    std::vector<std::vector<latency>> got(nd);
    for (int rep = 0; rep < opt.reps; ++rep) {
      for (std::size_t k = 0; k < nd; ++k) {
        const std::size_t idx = (k + static_cast<std::size_t>(rep)) % nd;
        got[idx].push_back(echo_rtt(cx, *drivers[idx], payload, wire, opt.warmup, opt.rtt));
      }
    }
    std::vector<latency> med(nd);
    for (std::size_t k = 0; k < nd; ++k) {
      std::vector<double> p50, p99, cli, snd, cs;
      for (const auto& l : got[k]) {
        all_ok = all_ok && l.ok;
        p50.push_back(l.p50);
        p99.push_back(l.p99);
        cli.push_back(l.cli_us);
        snd.push_back(l.snd_us);
        cs.push_back(l.switches);
      }
      med[k] = {median(p50), median(p99), median(cli), median(snd), median(cs), true};
    }
    for (std::size_t k = 0; k < nd; ++k) {
      const latency& l = med[k];
      std::printf("%-7s %-12s %8.1f %8.1f %8.2f %8.2f %6.2f %6.2f %6.2f\n",
                  k == 0 ? size_label(size).c_str() : "", drivers[k]->name(), l.p50, l.p99,
                  l.cli_us, l.snd_us, l.switches, l.p50 / med[base].p50, l.p99 / med[base].p99);
    }
    auto cpu = [](const latency& l) { return l.cli_us + l.snd_us; };
    summary_row p50{"rtt p50 " + size_label(size), {}, {}};
    summary_row p99{"rtt p99 " + size_label(size), {}, {}};
    for (std::size_t k = 0; k < n_ours; ++k) {
      p50.wall[k] = med[k].p50 / med[base].p50;
      p50.cpu[k] = cpu(med[k]) / cpu(med[base]);
      p99.wall[k] = med[k].p99 / med[base].p99;
    }
    summary.push_back(p50);
    summary.push_back(p99);
    std::fflush(stdout);
  }

  std::printf(
      "\noverhead of ours vs raw + codec: time per frame (or latency) and CPU per frame\n"
      "(targets: throughput >= 0.9 x raw inline, >= 0.8 x with the callback thread, i.e. time\n"
      " <= +11 %% / +25 %%; RTT <= +10 %% inline, <= +20 %% with the callback thread)\n");
  std::printf("%-14s", "case");
  for (std::size_t k = 0; k < n_ours; ++k)
    std::printf(" %12s %5s", (std::string(drivers[k]->name()) + " time").c_str(), "cpu");
  std::printf("\n");
  for (const auto& s : summary) {
    auto pct = [](double ratio) {
      if (ratio == 0) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%+.0f %%", (ratio - 1) * 100);
      return std::string(buf);
    };
    std::printf("%-14s", s.what.c_str());
    for (std::size_t k = 0; k < n_ours; ++k)
      std::printf(" %12s %5s", pct(s.wall[k]).c_str(), pct(s.cpu[k]).c_str());
    std::printf("\n");
  }
  std::printf(
      "  cpu = the client's own threads + the sending thread (for client->server this includes "
      "the\n  send_buffer_full retries; for the echo rows it is CPU per round trip)\n");
  std::uint64_t bad = 0;
  for (const auto& d : drivers) bad += d->in.bad.load();
  if (bad != 0 || !all_ok) {
    std::printf("\nERROR: %llu bad frames, %s\n", static_cast<unsigned long long>(bad),
                all_ok ? "all cases completed" : "a case timed out");
  }
  measuring = false;
  peers.clear();  // each hangs up: its client ends without waiting for a close handshake
  flooded.clear();
  drivers.clear();  // close every client before the server goes
  return bad == 0 && all_ok ? 0 : 1;
}
