// wspulse_client — to_prometheus (see metrics.hpp).
// SPDX-License-Identifier: MIT
#pragma once

namespace wspulse {
namespace detail {

// Appends `# HELP`/`# TYPE` and the samples of one metric family.
class prometheus_writer {
 public:
  prometheus_writer(std::string& out, std::string_view prefix) : out_(out), prefix_(prefix) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    name_line(name);
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    name_line(name);
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample: `<prefix>_<name>[{<label>="<value>"}] <value>`, the value `units` divided by
  // `per_unit` (a power of ten): integer arithmetic, so no locale changes the decimal point.
  void sample(std::string_view name, std::uint64_t units, std::string_view label = {},
              std::string_view label_value = {}, std::uint64_t per_unit = 1) {
    name_line(name);
    if (!label.empty()) {
      out_ += '{';
      out_ += label;
      out_ += "=\"";
      for (char c : label_value) {  // the format's three escapes
        if (c == '\\' || c == '"') out_ += '\\';
        if (c == '\n') {
          out_ += "\\n";
          continue;
        }
        out_ += c;
      }
      out_ += "\"}";
    }
    out_ += ' ';
    out_ += std::to_string(units / per_unit);
    if (per_unit > 1) {
      std::string fraction = std::to_string(units % per_unit + per_unit);  // "1" + digits
      out_ += '.';
      out_.append(fraction, 1, std::string::npos);
    }
    out_ += '\n';
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "counter", help);
    sample(name, value);
  }
  void gauge(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "gauge", help);
    sample(name, value);
  }
  // A summary without quantiles: a count, and a total of which `per_second` make a second.
  void summary(std::string_view name, std::string_view help, std::uint64_t count,
               std::uint64_t total, std::uint64_t per_second) {
    family(name, "summary", help);
    sample(std::string(name) + "_sum", total, {}, {}, per_second);
    sample(std::string(name) + "_count", count);
  }

 private:
  void name_line(std::string_view name) {
    out_ += prefix_;
    out_ += '_';
    out_ += name;
  }
  std::string& out_;
  std::string_view prefix_;
};

inline std::string reason_label(std::size_t slot) {
  if (slot == 0) return "closed";
  if (slot == reason_slots - 1) return "other";
  return make_error_code(static_cast<errc>(slot)).message();
}

}  // namespace detail

inline std::string to_prometheus(const counting_metrics::snapshot& s, std::string_view prefix) {
  std::string out;
  detail::prometheus_writer w(out, prefix);
  w.counter("connections_opened_total", "Transports opened (first dial and reconnects).",
            s.connections_opened);
  w.summary("handshake_seconds", "Time from a dial's start to the open transport.",
            s.connections_opened, s.handshake_us_total, 1000000);
  w.family("connections_closed_total", "counter", "Open transports that ended, by reason.");
  for (std::size_t i = 0; i < s.closed_by_reason.size(); ++i)
    if (s.closed_by_reason[i] != 0 || i == 0)
      w.sample("connections_closed_total", s.closed_by_reason[i], "reason",
               detail::reason_label(i));
  w.summary("connection_duration_seconds", "How long each ended transport was open.",
            s.connections_closed, s.connected_us_total, 1000000);
  w.summary("reconnect_delay_seconds", "Reconnect attempts and the backoff delay before each.",
            s.reconnect_attempts, s.reconnect_delay_ms_total, 1000);
  w.counter("messages_sent_total", "Frames written to the socket.", s.messages_sent);
  w.counter("sent_bytes_total", "Bytes of the frames written, as encoded.", s.bytes_sent);
  w.counter("messages_received_total", "Messages read.", s.messages_received);
  w.counter("received_bytes_total", "Bytes of the messages read, before decoding.",
            s.bytes_received);
  w.family("messages_dropped_total", "counter", "Messages that never reached their destination.");
  for (drop_cause c :
       {drop_cause::send_buffer_full, drop_cause::decode_failed, drop_cause::too_big})
    w.sample("messages_dropped_total", s.dropped[static_cast<std::size_t>(c)], "cause",
             to_string(c));
  w.gauge("send_queue_depth", "Frames accepted and not yet written (last reported).",
          s.send_queue_depth);
  w.gauge("send_queue_depth_max", "The largest send queue depth reported.", s.send_queue_depth_max);
  w.gauge("send_queue_capacity", "The send queue's capacity in frames.", s.send_queue_capacity);
  w.counter("heartbeat_failures_total", "Transports dropped because nothing arrived for pong_wait.",
            s.heartbeat_failures);
  w.summary("ping_rtt_seconds", "Round trip of the client's pings, to their pong.", s.pongs,
            s.ping_rtt_us_total, 1000000);
  w.gauge("ping_rtt_last_microseconds", "The last ping round trip.", s.ping_rtt_us_last);
  w.gauge("ping_rtt_max_microseconds", "The longest ping round trip.", s.ping_rtt_us_max);
  return out;
}

}  // namespace wspulse
