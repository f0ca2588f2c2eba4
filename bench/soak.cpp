// wspulse_client soak — clients under random faults for minutes with steady traffic both ways;
// prints what was sent, received and lost, reconnects, memory, descriptors and threads, and
// exits 1 when a rule is broken.
//
// Setup: the bundled server as a separate program (wspulse-testserver, restarted as a fault, so
// its memory stays out of ours); per client one fault_proxy (tests/support) between the client
// and the server. Every client sends numbered frames ({"event":"s<k>","payload":{"n":<seq>,…}})
// every --period-ms into one room; the server echoes each to every client of the room, so each
// client receives every stream. A frame counts as delivered when any client received its echo.
//
// Faults (one at a time, random client, random gaps): kick (random close code), server reset,
// proxy reset, black hole (shorter or longer than pong_wait), server process restart, server
// shutdown (503 while down), server slow read (stall), slow handler, latency, cut after N bytes.
//
// Checkpoints (after the warm-up and at the end): no fault, every proxy healed, every client
// connected with one proxied connection and its echo caught up. RSS, descriptors and threads are
// read there, in the same state.
//
// Rules (exit 1): (1) a client never got back to a working connection within 10 s; (2) a lost
// frame anywhere but at a transport boundary: a run of lost frames between two frames whose
// echoes came back to the sender on one and the same connection (FIFO and TCP order: frames
// between two delivered ones of one transport cannot be lost but by the client), or more runs
// than drops of the sender; (3) a run larger than the OS-buffer window: the kernel buffers along
// the path (client send buffer, the proxy's receive and send buffers, the server's receive
// buffer, at their tcp_wmem/tcp_rmem defaults: traffic this slow does not make the kernel grow
// them) + one read buffer each at the proxy and the server (16 KiB) + the most the proxy held
// and discarded at one drop (bytes in flight through a black hole); (4) RSS growth of 1 MiB or
// more between the checkpoints; (5) more descriptors or threads at the end than after the
// warm-up, or after everything closed than before it started; (6) a send error other than
// send_buffer_full; (7) SIGINT/SIGTERM (the soak still cleans up and reports).
//
// Usage: wspulse-soak [--minutes M] [--clients N] [--period-ms P] [--seed S] [--server PATH]
//                     [--break loss|rss|fd|thread]
// --break proves a rule can fail: the soak itself loses one accepted frame in 997 (never sent),
// keeps 64 KiB, a descriptor or a thread per fault after the warm-up.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include "../tests/support/child_process.hpp"
#include "../tests/support/fault_proxy.hpp"
#include "../tests/support/http_get.hpp"
#include "../tests/support/proc_self.hpp"
#include "../tests/support/wait_until.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>  // open: --break fd
#include <unistd.h>

using namespace std::chrono_literals;
using wspulse::test_support::child_process;
using wspulse::test_support::fault_proxy;
using wspulse::test_support::wait_until;
using steady = std::chrono::steady_clock;

namespace {

// Built with ASan or TSan (make check runs a short soak in both sanitizer builds).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

using soak_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>;

// SIGINT/SIGTERM end the faults early: the soak still cleans up (the server child too) and
// reports, as failed.
volatile std::sig_atomic_t interrupted = 0;
extern "C" void on_stop_signal(int) { interrupted = 1; }

// Client timings: short, so faults are detected and healed many times a minute.
constexpr auto ping_period = 250ms;
constexpr auto pong_wait = 750ms;
constexpr auto write_wait = 1000ms;
constexpr const char* pad = "soak-soak-soak-soak-soak-soak-soak-soak-soak-soak-soak-soak-soak";

struct settings {
  double minutes = 2;
  int clients = 2;
  int period_ms = 5;
  std::uint64_t seed = 20261202;
  std::string server;
  std::string break_rule;  // --break: what the soak breaks on purpose ("" = nothing)
};

wspulse::frame numbered(int stream, std::uint64_t seq) {
  return {"", "s" + std::to_string(stream),
          "{\"n\":" + std::to_string(seq) + ",\"pad\":\"" + pad + "\"}"};
}

// Bytes of that frame on the wire from the client: the encoded text + the masked header.
std::size_t wire_bytes(int stream, std::uint64_t seq) {
  std::string text;
  std::error_code ec;
  wspulse::json_codec().encode(numbered(stream, seq), text, ec);
  return text.size() + (text.size() < 126 ? 6 : 8);
}

// The default (middle) value of /proc/sys/net/ipv4/<name> (min default max), e.g. tcp_wmem:
// the size a socket's buffer starts with.
long sysctl_default(const char* name) {
  std::ifstream in(std::string("/proc/sys/net/ipv4/") + name);
  long min = 0, def = 0;
  in >> min >> def;
  return def;
}

template <class T>
void raise_to(std::atomic<T>& max, T value) {
  T seen = max.load();
  while (value > seen && !max.compare_exchange_weak(seen, value)) {
  }
}

// The wspulse-testserver program on fixed ports once the first start picked them.
class server_process {
 public:
  explicit server_process(std::string path) : path_(std::move(path)) {}
  bool start() {
    for (int attempt = 0; attempt < 50; ++attempt) {  // a restart may find the port in use
      child_ = std::make_unique<child_process>(std::vector<std::string>{
          path_, "--port", std::to_string(ws_), "--control-port", std::to_string(control_),
          "--ping-ms", "10000", "--pong-ms", "5000"});
      const auto line = child_->first_line(5s);
      unsigned ws = 0, control = 0;
      if (line && std::sscanf(line->c_str(), "READY %u %u", &ws, &control) == 2) {
        ws_ = static_cast<std::uint16_t>(ws);
        control_ = static_cast<std::uint16_t>(control);
        return true;
      }
      child_.reset();
      std::this_thread::sleep_for(100ms);  // back-off before rebinding, not synchronisation
    }
    return false;
  }
  void stop() { child_.reset(); }
  bool control(const std::string& target) {
    return wspulse::test_support::http_post(control_, target, {}, 2s).status == 200;
  }
  std::uint16_t port() const { return ws_; }

 private:
  std::string path_;
  std::uint16_t ws_ = 0;
  std::uint16_t control_ = 0;
  std::unique_ptr<child_process> child_;
};

// Which frames of one stream were echoed to any client: one bit per sequence number, allocated
// and touched before the warm-up so it adds nothing to RSS later.
class delivery_map {
 public:
  explicit delivery_map(std::uint64_t capacity) : words_((capacity + 63) / 64) {
    for (auto& w : words_) w.store(0);
  }
  std::uint64_t capacity() const { return words_.size() * 64; }
  void mark(std::uint64_t seq) {
    if (seq < capacity()) words_[seq / 64].fetch_or(std::uint64_t{1} << (seq % 64));
  }
  bool has(std::uint64_t seq) const {
    return seq < capacity() && (words_[seq / 64].load() >> (seq % 64) & 1);
  }

 private:
  std::vector<std::atomic<std::uint64_t>> words_;
};

struct stream_state {
  explicit stream_state(std::uint64_t capacity)
      : delivered(capacity), own_echo_transport(capacity, 0) {}
  delivery_map delivered;
  // Per sequence number: 1 + the sender's drops before its own echo came back (its transport);
  // 0 = it did not come back to the sender. Written and read on the sender's callback thread
  // only (and at the end, after close()).
  std::vector<std::uint32_t> own_echo_transport;
  std::atomic<std::uint64_t> accepted{0};      // frames send() took: 0..accepted-1
  std::atomic<std::uint64_t> refused{0};       // send_buffer_full answers
  std::atomic<std::uint64_t> own_echoes{0};    // echoes of its own frames it received
  std::atomic<std::uint64_t> other_echoes{0};  // frames of other streams it received
  std::atomic<std::uint64_t> max_in_flight{0};
  std::atomic<std::uint64_t> drops{0};
  std::atomic<std::uint64_t> restores{0};
  std::atomic<std::uint64_t> max_discarded_at_drop{0};
  std::atomic<std::uint64_t> discarded_at_last_drop{0};
  std::atomic<long long> max_handler_stall_ms{0};
  std::atomic<int> stall_next_ms{0};  // the slow-handler fault: the next on_message sleeps this
  std::atomic<bool> send_failed{false};
  std::string send_error;
};

struct checkpoint {
  long rss_kib = 0;
  std::size_t fds = 0;
  std::size_t threads = 0;
};

class soak {
 public:
  explicit soak(const settings& s) : s_(s), rng_(s.seed), server_(s.server) {
    const double seconds = s.minutes * 60 + 120;  // + warm-up checkpoint and drain
    capacity_ = static_cast<std::uint64_t>(seconds * 1000 / std::max(1, s.period_ms) * 1.2) + 4096;
  }

  int run() {
    const checkpoint outside = read_checkpoint();
    if (!server_.start()) return fail("the server did not start");
    for (int k = 0; k < s_.clients; ++k)
      streams_.push_back(std::make_unique<stream_state>(capacity_));
    for (int k = 0; k < s_.clients; ++k)
      proxies_.push_back(std::make_unique<fault_proxy>(server_.port()));
    for (int k = 0; k < s_.clients; ++k) {
      auto c = soak_client::dial(proxies_[k]->url("/ws?room=soak&id=" + id(k)), options_for(k),
                                 last_reason_);
      if (!c) return fail("dial failed: " + last_reason_.message());
      clients_.push_back(std::move(c));
    }
    for (int k = 0; k < s_.clients; ++k) senders_.emplace_back([this, k] { send_loop(k); });
    const checkpoint started = read_checkpoint();

    const auto total = std::chrono::milliseconds(static_cast<long long>(s_.minutes * 60000));
    const auto warm_up = std::clamp<std::chrono::milliseconds>(total / 10, 20s, 120s);
    const auto t0 = steady::now();
    bool ok = chaos_until(t0 + warm_up);
    std::optional<checkpoint> warm;
    if (ok && quiesce()) warm = read_checkpoint();
    warmed_up_ = true;
    ok = warm && chaos_until(t0 + std::max(total, warm_up + 10s));
    std::optional<checkpoint> end;
    if (ok && quiesce()) end = read_checkpoint();

    stop_senders_ = true;
    for (auto& t : senders_) t.join();
    for (auto& t : kept_threads_) t.join();
    for (const int fd : kept_fds_) ::close(fd);
    const bool drained = drain();
    for (auto& c : clients_) c.close();
    clients_.clear();
    proxies_.clear();
    server_.stop();
    const auto elapsed = steady::now() - t0;
    const bool outside_ok = wait_until(
        [&] {
          // A sanitizer's runtime starts a background thread of its own once threads exist.
          return read_checkpoint().fds <= outside.fds &&
                 read_checkpoint().threads <= outside.threads + (sanitized ? 1 : 0);
        },
        5s, 20ms);
    const checkpoint after = read_checkpoint();
    return report(elapsed, outside, started, warm, end, after, ok && warm && end, drained,
                  outside_ok);
  }

 private:
  static std::string id(int k) { return "c" + std::to_string(k); }

  soak_client::options options_for(int k) {
    soak_client::options o;
    o.heartbeat(ping_period, pong_wait, write_wait)
        .auto_reconnect(0, 10ms, 100ms)
        .handshake_timeout(1s)
        .on_message([this, k](const wspulse::frame& f) { on_frame(k, f); })
        .on_transport_drop([this, k](const wspulse::reason&) {
          stream_state& st = *streams_[k];
          ++st.drops;
          const std::uint64_t d = proxies_[k]->bytes_discarded();
          raise_to(st.max_discarded_at_drop, d - st.discarded_at_last_drop.exchange(d));
        })
        .on_transport_restore([this, k] { ++streams_[k]->restores; });
    return o;
  }

  void on_frame(int k, const wspulse::frame& f) {
    stream_state& me = *streams_[k];
    if (const int ms = me.stall_next_ms.exchange(0); ms > 0) {
      const auto until = steady::now() + std::chrono::milliseconds(ms);
      std::this_thread::sleep_until(until);  // the slow-handler fault itself
      raise_to(me.max_handler_stall_ms, static_cast<long long>(ms));
    }
    if (f.event.size() < 2 || f.event[0] != 's') return;
    const int from = std::atoi(f.event.c_str() + 1);
    const auto at = f.payload.find("\"n\":");
    if (from < 0 || from >= s_.clients || at == std::string::npos) return;
    const std::uint64_t seq = std::strtoull(f.payload.c_str() + at + 4, nullptr, 10);
    streams_[from]->delivered.mark(seq);
    if (from == k) {
      ++me.own_echoes;
      if (seq < me.own_echo_transport.size())
        me.own_echo_transport[seq] = static_cast<std::uint32_t>(me.drops.load() + 1);
      const std::uint64_t accepted = me.accepted.load();
      if (accepted > seq) raise_to(me.max_in_flight, accepted - seq);
    } else {
      ++me.other_echoes;
    }
  }

  void send_loop(int k) {
    stream_state& st = *streams_[k];
    auto next = steady::now();
    while (!stop_senders_.load()) {
      const std::uint64_t seq = st.accepted.load();
      if (seq >= capacity_) break;  // sized for the run: reported as missing traffic
      const bool skip = s_.break_rule == "loss" && seq % 997 == 500;
      const auto ec = skip ? std::error_code{} : clients_[k].send(numbered(k, seq));
      if (!ec) {
        st.accepted.store(seq + 1);
      } else if (ec == wspulse::errc::send_buffer_full) {
        ++st.refused;
      } else {
        st.send_error = ec.message();
        st.send_failed = true;
        break;
      }
      next += std::chrono::milliseconds(s_.period_ms);
      std::this_thread::sleep_until(next);  // pacing of the traffic, not synchronisation
    }
  }

  int rand_int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  bool all_healthy() {
    for (int k = 0; k < s_.clients; ++k)
      if (!clients_[k].connected() || proxies_[k]->open_connections() != 1) return false;
    return true;
  }

  // One random fault after another until `until`; false when a client stayed down.
  bool chaos_until(steady::time_point until) {
    while (steady::now() < until) {
      if (interrupted) return false;
      if (!wait_until([&] { return all_healthy(); }, 10s, 5ms)) {
        stuck_ = true;
        return false;
      }
      const int k = rand_int(0, s_.clients - 1);
      const int kind = rand_int(0, kinds - 1);
      ++faults_[kind];
      inject(kind, k);
      if (warmed_up_) break_on_purpose();
      if (++since_clear_ >= 50) {  // the server keeps every message for received(): forget them
        server_.control("/clear_received");
        since_clear_ = 0;
      }
      const auto gap = std::chrono::milliseconds(rand_int(20, 300));
      std::this_thread::sleep_for(gap);  // traffic flows between faults: the gap is the point
    }
    return true;
  }

  void break_on_purpose() {
    if (s_.break_rule == "rss") kept_memory_.emplace_back(64 * 1024, 'k');
    if (s_.break_rule == "fd") kept_fds_.push_back(::open("/dev/null", O_RDONLY));
    if (s_.break_rule == "thread" && kept_threads_.empty())
      kept_threads_.emplace_back(
          [this] { wait_until([&] { return stop_senders_.load(); }, 1h, 10ms); });
  }

  void wait_for_drop(int k, std::chrono::milliseconds timeout) {
    const std::uint64_t d = streams_[k]->drops.load();
    wait_until([&] { return streams_[k]->drops.load() > d; }, timeout, 2ms);
  }

  void hold_for(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

  static constexpr int kinds = 10;
  static constexpr const char* kind_names[kinds] = {
      "kick",      "server-reset", "proxy-reset", "black-hole", "server-restart", "server-shutdown",
      "slow-read", "slow-handler", "latency",     "cut"};

  void inject(int kind, int k) {
    fault_proxy& proxy = *proxies_[k];
    switch (kind) {
      case 0: {
        const int code = rand_int(0, 1) ? 1000 : 4000 + rand_int(0, 99);
        server_.control("/kick?id=" + id(k) + "&code=" + std::to_string(code) + "&reason=soak");
        break;
      }
      case 1: server_.control("/drop?id=" + id(k)); break;
      case 2: proxy.reset_all(); break;
      case 3:  // shorter or longer than pong_wait: survived, or a heartbeat drop
        proxy.set_black_hole(true);
        hold_for(rand_int(20, 1500));
        proxy.set_black_hole(false);
        break;
      case 4:  // the process ends (connections reset), a new one starts on the same port
        server_.stop();
        hold_for(rand_int(0, 200));
        if (!server_.start()) stuck_ = true;
        break;
      case 5:  // close 1001 to everyone, 503 to every dial while down
        server_.control("/shutdown");
        hold_for(rand_int(20, 300));
        server_.control("/restart");
        break;
      case 6:
        server_.control("/stall?id=" + id(k) + "&ms=" + std::to_string(rand_int(20, 450)));
        break;
      case 7: streams_[k]->stall_next_ms = rand_int(20, 300); break;
      case 8:
        proxy.set_latency(rand_int(1, 40));
        hold_for(rand_int(50, 500));
        proxy.set_latency(0);
        break;
      case 9:
        proxy.close_after_bytes(static_cast<std::uint64_t>(rand_int(1, 4000)));
        wait_for_drop(k, 2s);
        proxy.close_after_bytes(0);
        break;
    }
  }

  // No fault; every client connected through one proxied connection and its stream echoed up
  // to what it had accepted when the checkpoint began.
  bool quiesce() {
    for (auto& p : proxies_) p->heal();
    if (!wait_until([&] { return all_healthy(); }, 10s, 5ms)) {
      stuck_ = true;
      return false;
    }
    std::vector<std::uint64_t> goal;
    for (auto& st : streams_) goal.push_back(st->accepted.load());
    const bool caught_up = wait_until(
        [&] {
          for (int k = 0; k < s_.clients; ++k)
            if (goal[k] > 0 && !streams_[k]->delivered.has(goal[k] - 1) &&
                streams_[k]->accepted.load() <= goal[k] + 200)
              return false;
          return true;
        },
        10s, 5ms);
    std::this_thread::sleep_for(200ms);  // let freed buffers settle before reading RSS
    return caught_up && all_healthy();
  }

  // After the senders stopped: the last accepted frame of every stream echoed (FIFO: everything
  // before it was written or lost at a drop).
  bool drain() {
    for (auto& p : proxies_) p->heal();
    return wait_until(
        [&] {
          for (auto& st : streams_) {
            const std::uint64_t n = st->accepted.load();
            if (n > 0 && !st->delivered.has(n - 1)) return false;
          }
          return true;
        },
        20s, 5ms);
  }

  static checkpoint read_checkpoint() {
    return {wspulse::test_support::rss_kib(), wspulse::test_support::open_fds(),
            wspulse::test_support::live_threads()};
  }

  int fail(const std::string& why) {
    std::printf("soak: FAILED: %s\n", why.c_str());
    return 1;
  }

  int report(steady::duration elapsed, const checkpoint& outside, const checkpoint& started,
             const std::optional<checkpoint>& warm, const std::optional<checkpoint>& end,
             const checkpoint& after, bool checkpoints_ok, bool drained, bool outside_ok) {
    std::vector<std::string> broken;
    const long window_base =
        sysctl_default("tcp_wmem") * 2 + sysctl_default("tcp_rmem") * 2 + 2 * 16384;
    std::printf("soak: seed %llu, %d clients, a frame every %d ms each, %.1f min (%.1f s)\n",
                static_cast<unsigned long long>(s_.seed), s_.clients, s_.period_ms, s_.minutes,
                std::chrono::duration<double>(elapsed).count());
    std::printf("faults:");
    long total_faults = 0;
    for (int i = 0; i < kinds; ++i) {
      std::printf(" %s=%ld", kind_names[i], faults_[i]);
      total_faults += faults_[i];
    }
    std::printf(" (total %ld)\n", total_faults);
    std::printf("%-7s %10s %10s %10s %10s %8s %8s %8s %9s %9s %10s %10s %9s\n", "stream", "sent",
                "delivered", "own-echo", "other-echo", "lost", "runs", "drops", "restores",
                "refused", "max-run-B", "bound-B", "inflight");
    for (int k = 0; k < s_.clients; ++k) {
      stream_state& st = *streams_[k];
      const std::uint64_t n = st.accepted.load();
      std::uint64_t lost = 0, runs = 0, delivered = 0, run_bytes = 0, max_run_bytes = 0;
      std::uint64_t run_frames = 0, max_run_frames = 0, inside = 0;
      std::uint32_t transport_before = 0;  // the own echo before the current run came on it
      bool in_run = false;
      for (std::uint64_t seq = 0; seq < n; ++seq) {
        if (st.delivered.has(seq)) {
          ++delivered;
          const std::uint32_t t = st.own_echo_transport[seq];
          if (t != 0) {
            if (in_run && t == transport_before) ++inside;
            in_run = false;
            transport_before = t;
          }
          run_bytes = run_frames = 0;
          continue;
        }
        ++lost;
        in_run = true;
        if (run_bytes == 0) ++runs;
        run_bytes += wire_bytes(k, seq);
        max_run_bytes = std::max(max_run_bytes, run_bytes);
        max_run_frames = std::max(max_run_frames, ++run_frames);
      }
      const std::uint64_t bound =
          static_cast<std::uint64_t>(window_base) + st.max_discarded_at_drop.load();
      std::printf(
          "%-7s %10llu %10llu %10llu %10llu %8llu %8llu %8llu %9llu %9llu %10llu %10llu %9llu\n",
          id(k).c_str(), ull(n), ull(delivered), ull(st.own_echoes), ull(st.other_echoes),
          ull(lost), ull(runs), ull(st.drops), ull(st.restores), ull(st.refused),
          ull(max_run_bytes), ull(bound), ull(st.max_in_flight));
      if (inside > 0)
        broken.push_back(id(k) + ": " + std::to_string(inside) +
                         " runs of lost frames inside one transport (a loss away from a drop)");
      if (runs > st.drops.load())
        broken.push_back(id(k) + ": " + std::to_string(runs) + " runs of lost frames for " +
                         std::to_string(st.drops.load()) + " drops (a loss away from a drop)");
      if (max_run_bytes > bound)
        broken.push_back(id(k) + ": a run of " + std::to_string(max_run_bytes) +
                         " lost bytes, over the OS-buffer window of " + std::to_string(bound));
      if (st.send_failed) broken.push_back(id(k) + ": send failed: " + st.send_error);
      if (n >= capacity_) broken.push_back(id(k) + ": the stream hit its capacity");
      std::printf(
          "        largest run %llu frames (%llu ms of its traffic); the proxy discarded "
          "at most %llu B at one drop; largest handler stall %lld ms\n",
          ull(max_run_frames), ull(max_run_frames * static_cast<unsigned>(s_.period_ms)),
          ull(st.max_discarded_at_drop), st.max_handler_stall_ms.load());
    }
    std::printf(
        "sent = accepted by send(); delivered = echoed to any client; lost = sent - delivered, in "
        "runs of consecutive numbers; refused = send_buffer_full answers; inflight = the largest "
        "queue depth seen: frames accepted but not yet echoed back (send queue + network + "
        "inbound queue)\n");
    std::printf(
        "OS-buffer window base: 2 x tcp_wmem default + 2 x tcp_rmem default + 2 x 16 KiB = %ld B "
        "(+ the proxy's largest discard at one drop)\n",
        window_base);
    const auto line = [](const char* name, const checkpoint& c) {
      std::printf("%-22s RSS %7ld KiB  fds %4zu  threads %3zu\n", name, c.rss_kib, c.fds,
                  c.threads);
    };
    line("before start", outside);
    line("connected", started);
    if (warm) line("after warm-up", *warm);
    if (end) line("end", *end);
    line("after close", after);
    std::printf("peak RSS (VmHWM)       %7ld KiB\n", wspulse::test_support::peak_rss_kib());
    if (interrupted) broken.push_back("interrupted by a signal");
    if (stuck_) broken.push_back("a client did not get back to a working connection in 10 s");
    if (!checkpoints_ok) broken.push_back("a checkpoint was not reached");
    if (!drained) broken.push_back("the tail of a stream was not echoed within 20 s of the end");
    if (warm && end) {
      const long growth = end->rss_kib - warm->rss_kib;
      if (sanitized) {  // ASan's quarantine and TSan's shadow keep freed memory on purpose
        std::printf("RSS growth after warm-up: %ld KiB (not judged under a sanitizer)\n", growth);
      } else {
        std::printf("RSS growth after warm-up: %ld KiB (rule: < 1024)\n", growth);
        if (growth >= 1024) broken.push_back("RSS grew " + std::to_string(growth) + " KiB");
      }
      if (end->fds > warm->fds) broken.push_back("descriptors grew after the warm-up");
      if (end->threads > warm->threads) broken.push_back("threads grew after the warm-up");
    }
    if (!outside_ok) broken.push_back("descriptors or threads left after everything closed");
    for (const auto& b : broken) std::printf("soak: RULE BROKEN: %s\n", b.c_str());
    std::printf("soak: %s\n", broken.empty() ? "passed" : "FAILED");
    return broken.empty() ? 0 : 1;
  }

  static unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }
  static unsigned long long ull(const std::atomic<std::uint64_t>& v) { return ull(v.load()); }

  settings s_;
  std::mt19937_64 rng_;
  server_process server_;
  std::uint64_t capacity_ = 0;
  std::vector<std::unique_ptr<stream_state>> streams_;
  std::vector<std::unique_ptr<fault_proxy>> proxies_;
  std::vector<soak_client> clients_;
  std::vector<std::thread> senders_;
  std::atomic<bool> stop_senders_{false};
  wspulse::reason last_reason_;
  long faults_[kinds] = {};
  int since_clear_ = 0;
  bool stuck_ = false;
  bool warmed_up_ = false;
  std::vector<std::string> kept_memory_;  // --break rss|fd|thread
  std::vector<int> kept_fds_;
  std::vector<std::thread> kept_threads_;
};

}  // namespace

int main(int argc, char** argv) {
  settings s;
#ifdef WSPULSE_TESTSERVER_PATH
  s.server = WSPULSE_TESTSERVER_PATH;
#endif
  if (const char* env = std::getenv("WSPULSE_TESTSERVER")) s.server = env;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--minutes" && v)
      s.minutes = std::atof(argv[++i]);
    else if (a == "--clients" && v)
      s.clients = std::atoi(argv[++i]);
    else if (a == "--period-ms" && v)
      s.period_ms = std::atoi(argv[++i]);
    else if (a == "--seed" && v)
      s.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--server" && v)
      s.server = argv[++i];
    else if (a == "--break" && v)
      s.break_rule = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: wspulse-soak [--minutes M] [--clients N] [--period-ms P] [--seed S] "
                   "[--server PATH] [--break loss|rss|fd|thread]\n");
      return 2;
    }
  }
  const bool break_ok = s.break_rule.empty() || s.break_rule == "loss" || s.break_rule == "rss" ||
                        s.break_rule == "fd" || s.break_rule == "thread";
  if (s.server.empty() || s.minutes <= 0 || s.clients < 1 || s.clients > 16 || s.period_ms < 1 ||
      !break_ok) {
    std::fprintf(stderr, "wspulse-soak: bad settings (and --server is required without a build)\n");
    return 2;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::printf("command:");
  for (int i = 0; i < argc; ++i) std::printf(" %s", argv[i]);
  std::printf("\n");
  std::fflush(stdout);
  return soak(s).run();
}
