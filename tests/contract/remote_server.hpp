// wspulse_client tests — a wspulse-testserver running outside this process (another process,
// or the host of a qemu-user run), reached at $WSPULSE_URL and steered only through its HTTP
// control API at $WSPULSE_CONTROL_URL (tools/with_testserver.sh exports both).
// SPDX-License-Identifier: MIT
#pragma once

#include "../support/http_get.hpp"
#include "../support/wait_until.hpp"

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>  // std::getenv
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>  // getpid: names no other run against the same server uses

namespace wspulse::test_support {

/// Where a server listens: "<scheme>://<IP literal>:<port>", nothing after the port.
struct endpoint_address {
  std::string host;
  std::uint16_t port = 0;

  static endpoint_address parse(std::string_view url) {
    const auto scheme_end = url.find("://");
    const auto colon = url.rfind(':');
    if (scheme_end == std::string_view::npos || colon <= scheme_end + 3)
      throw std::invalid_argument("not <scheme>://<ip>:<port>: " + std::string(url));
    const std::string port_text(url.substr(colon + 1));
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port_text) > 65535)
      throw std::invalid_argument("bad port in " + std::string(url));
    return {std::string(url.substr(scheme_end + 3, colon - scheme_end - 3)),
            static_cast<std::uint16_t>(std::stoul(port_text))};
  }
};

class remote_server {
 public:
  /// The server the environment names; throws std::invalid_argument when it names none.
  static const remote_server& from_environment() {
    static const remote_server server(env("WSPULSE_URL"), env("WSPULSE_CONTROL_URL"));
    return server;
  }

  /// An id (and room) no other scenario or concurrent run against this server uses.
  std::string unique(std::string_view scenario) const {
    return "p" + std::to_string(::getpid()) + "-" + std::string(scenario);
  }
  /// The upgrade URL for connection `id` alone in its own room, with extra query parameters.
  std::string url(const std::string& id, std::string_view extra_query = {}) const {
    return ws_url_ + "/ws?room=" + id + "&id=" + id + std::string(extra_query);
  }
  const std::string& host() const noexcept { return ws_.host; }

  // Control calls; true when the server answered 200 (the connection was open, for those
  // that name one).
  bool kick(const std::string& id, std::uint16_t code, std::string_view reason) const {
    // close=frame: the scenarios check the code and text, so the close frame must be written.
    return post("/kick?close=frame&id=" + id + "&code=" + std::to_string(code) +
                "&reason=" + std::string(reason));
  }
  bool drop(const std::string& id) const { return post("/drop?id=" + id); }
  bool mute(const std::string& id) const { return post("/mute?id=" + id); }
  /// Sends body as one text frame; raw: without the server's check that it is a JSON object.
  bool send(const std::string& id, std::string_view body, bool raw = false) const {
    return post("/send?id=" + id + (raw ? "&raw=1" : ""), body);
  }

  /// Every message the server received from id, in order, across its reconnects.
  std::vector<std::string> received(const std::string& id) const {
    std::vector<std::string> out;
    const rapidjson::Document doc = get_json("/received?id=" + id);
    if (doc.IsObject() && doc.HasMember("messages") && doc["messages"].IsArray())
      for (const auto& m : doc["messages"].GetArray())
        if (m.IsString()) out.emplace_back(m.GetString(), m.GetStringLength());
    return out;
  }

  /// Whether the server lists an open connection id (its room is id, as url() makes it).
  bool lists(const std::string& id) const {
    const rapidjson::Document doc = get_json("/connections?room=" + id);
    if (!doc.IsObject() || !doc.HasMember("connections") || !doc["connections"].IsArray())
      return false;
    for (const auto& c : doc["connections"].GetArray())
      if (c.IsObject() && c.HasMember("id") && c["id"].IsString() && c["id"].GetString() == id)
        return true;
    return false;
  }
  /// The server registers a connection a moment after the 101 (and forgets it a moment after
  /// the close): wait for it before steering it by id.
  bool knows(const std::string& id, std::chrono::milliseconds timeout = std::chrono::seconds(5),
             bool listed = true) const {
    return wait_until([&] { return lists(id) == listed; }, timeout, poll_);
  }
  bool forgot(const std::string& id) const { return knows(id, std::chrono::seconds(5), false); }

 private:
  remote_server(const std::string& ws_url, const std::string& control_url)
      : ws_url_(ws_url),
        ws_(endpoint_address::parse(ws_url)),
        control_(endpoint_address::parse(control_url)) {}

  static std::string env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
      throw std::invalid_argument(std::string(name) +
                                  " is not set: run under tools/with_testserver.sh");
    return value;
  }

  bool post(const std::string& target, std::string_view body = {}) const {
    return http_request("POST", control_.port, target, body, timeout_, control_.host).status == 200;
  }
  rapidjson::Document get_json(const std::string& target) const {
    rapidjson::Document doc;
    const http_response r = http_request("GET", control_.port, target, {}, timeout_, control_.host);
    if (r.status == 200) doc.Parse(r.body.data(), r.body.size());
    return doc;
  }

  // Polling the control API costs a request each time: not every 2 ms.
  static constexpr std::chrono::milliseconds poll_{20};
  // Generous: a qemu-user run on a loaded machine is slow.
  static constexpr std::chrono::milliseconds timeout_{5000};

  std::string ws_url_;
  endpoint_address ws_;
  endpoint_address control_;
};

}  // namespace wspulse::test_support
