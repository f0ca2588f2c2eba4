// wspulse_client tests — a tiny blocking HTTP/1.1 client (standalone Asio) with a deadline, for
// the test server's control API and for plain HTTP probes of a WebSocket port.
// SPDX-License-Identifier: MIT
#pragma once

#include "wspulse/detail/asio_check.hpp"

#include <asio/buffer.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <cctype>  // std::tolower for header names
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspulse::test_support {

struct http_response {
  int status = 0;     ///< 0 when no response arrived (see error)
  std::string error;  ///< empty on success: "timeout", a socket error, "malformed response"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Value of the first header with that name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.first.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(h.first[i])) ==
               std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (same) return h.second;
    }
    return {};
  }
};

/// One request on a fresh connection to host:port ("Connection: close"), read to the end.
/// Never throws for network problems: they are reported in http_response::error.
inline http_response http_request(std::string_view method, std::uint16_t port,
                                  std::string_view target, std::string_view body = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(3),
                                  std::string_view host = "127.0.0.1") {
  http_response out;
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  request.append("Host: ").append(host).append(":").append(std::to_string(port)).append("\r\n");
  request.append("Connection: close\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.append("Content-Type: application/json\r\n");
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("\r\n").append(body);

  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::string raw;
  asio::error_code result;
  bool done = false;

  asio::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    out.error = "bad host: " + ec.message();
    return out;
  }
  socket.async_connect(asio::ip::tcp::endpoint(address, port), [&](const asio::error_code& e) {
    if (e) {
      result = e;
      done = true;
      return;
    }
    asio::async_write(socket, asio::buffer(request), [&](const asio::error_code& e2, std::size_t) {
      if (e2) {
        result = e2;
        done = true;
        return;
      }
      asio::async_read(socket, asio::dynamic_buffer(raw),
                       [&](const asio::error_code& e3, std::size_t) {
                         result = e3;
                         done = true;
                       });
    });
  });
  io.run_for(timeout);
  if (!done) {
    out.error = "timeout";
    return out;
  }
  if (result && result != asio::error::eof) {
    out.error = result.message();
    return out;
  }

  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) {
    out.error = "malformed response";
    return out;
  }
  const std::string_view head(raw.data(), head_end);
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  const auto sp = status_line.find(' ');
  if (sp == std::string_view::npos || sp + 4 > status_line.size()) {
    out.error = "malformed status line";
    return out;
  }
  for (std::size_t i = sp + 1; i < sp + 4; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') {
      out.error = "malformed status line";
      return out;
    }
    out.status = out.status * 10 + (status_line[i] - '0');
  }
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  out.body = raw.substr(head_end + 4);
  const std::string length = out.header("Content-Length");
  if (!length.empty() && length.find_first_not_of("0123456789") == std::string::npos &&
      length.size() < 19) {
    const auto n = static_cast<std::size_t>(std::stoull(length));
    if (n < out.body.size()) out.body.resize(n);
  }
  return out;
}

inline http_response http_get(std::uint16_t port, std::string_view target,
                              std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  return http_request("GET", port, target, {}, timeout);
}

inline http_response http_post(std::uint16_t port, std::string_view target,
                               std::string_view body = {},
                               std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  return http_request("POST", port, target, body, timeout);
}

}  // namespace wspulse::test_support
