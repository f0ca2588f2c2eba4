// wspulse_client fuzzing — what the client checks before any I/O: the dial URL
// (detail::normalize_url, then websocketpp's URI parser on what it accepts), dial headers
// (options::dial_headers) and the redaction of URLs and headers before they reach a log.
// The first input byte picks the mode; the rest is the URL, or a header name and value.
// SPDX-License-Identifier: MIT
#include <wspulse/client.hpp>
#include <wspulse/redact.hpp>

#include "fuzz_support.hpp"

#include <websocketpp/uri.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using wspulse_fuzz::byte_reader;

bool is_space_or_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void fuzz_normalize(std::string_view url) {
  wspulse::detail::dial_url out;
  if (wspulse::detail::normalize_url(url, out)) return;  // refused: nothing to check
  for (char c : url) WSPULSE_FUZZ_CHECK(!is_space_or_control(c), url);
  for (char c : out.text) WSPULSE_FUZZ_CHECK(!is_space_or_control(c), out.text);
  WSPULSE_FUZZ_CHECK(starts_with(out.text, out.secure ? "wss://" : "ws://"), out.text);
  const std::size_t host = out.secure ? 6 : 5;
  WSPULSE_FUZZ_CHECK(out.text.size() > host && out.text[host] != '/' && out.text[host] != '?' &&
                         out.text[host] != '#' && out.text[host] != ':',
                     out.text);
  // The client hands the accepted text to websocketpp's parser: it must survive it.
  try {
    websocketpp::uri uri(out.text);
    if (uri.get_valid()) {
      WSPULSE_FUZZ_CHECK(uri.get_secure() == out.secure, out.text);
      (void)uri.get_host();
      (void)uri.get_port();
      (void)uri.get_resource();
    }
  } catch (const std::exception&) {  // websocketpp may throw on a bad port: a clean failure
  }
}

// redact_url: every query value and fragment hidden, credentials hidden, nothing else changed
// in the query keys, and applying it twice changes nothing.
void fuzz_redact(std::string_view url) {
  const std::string out = wspulse::redact_url(url);
  // Where the query and the fragment start: after a valid "scheme://" if any, the first '?' or
  // '#'. Found in the output: redaction keeps the scheme and adds neither '?' nor '#' before.
  std::size_t start = 0;
  if (const std::size_t sep = out.find("://");
      sep != std::string::npos && wspulse::detail::is_url_scheme(out.substr(0, sep)))
    start = sep + 3;
  const std::size_t head_end = out.find_first_of("?#", start);
  if (head_end != std::string::npos) {
    std::size_t fragment = head_end;
    if (out[head_end] == '?') {
      fragment = out.find('#', head_end + 1);
      std::string_view query(out);
      query = query.substr(head_end + 1, fragment == std::string::npos ? std::string::npos
                                                                       : fragment - head_end - 1);
      for (std::size_t begin = 0;;) {
        const std::size_t amp = query.find('&', begin);
        const std::string_view part = query.substr(begin, amp - begin);
        const std::size_t eq = part.find('=');
        WSPULSE_FUZZ_CHECK(eq == std::string_view::npos || part.substr(eq + 1) == "***", out);
        if (amp == std::string_view::npos) break;
        begin = amp + 1;
      }
    }
    if (fragment != std::string::npos) {
      const std::string_view tail = std::string_view(out).substr(fragment + 1);
      WSPULSE_FUZZ_CHECK(tail.empty() || tail == "***", out);
    }
  }
  // No credentials: an '@' before the query or fragment follows the mark, once.
  const std::string_view head = std::string_view(out).substr(start, head_end - start);
  if (const std::size_t at = head.rfind('@'); at != std::string_view::npos) {
    WSPULSE_FUZZ_CHECK(at == 3 && starts_with(head, "***@"), out);
  }
  WSPULSE_FUZZ_CHECK(wspulse::redact_url(out) == out, out);
  // A URL with neither secrets nor a query/fragment/credentials comes back unchanged.
  if (url.find_first_of("?#@") == std::string_view::npos) WSPULSE_FUZZ_CHECK(out == url, out);
}

void fuzz_header(byte_reader& in) {
  const std::string name(in.sized());
  const std::string value(in.rest());
  wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>::options opts;
  bool accepted = false;
  try {
    opts.dial_headers({{name, value}});
    accepted = true;
  } catch (const std::invalid_argument& ex) {
    WSPULSE_FUZZ_CHECK(starts_with(ex.what(), "wspulse: "), ex.what());
    WSPULSE_FUZZ_CHECK(opts.dial_headers().empty());  // a refused list changes nothing
  }
  if (accepted) {
    // One line on the wire, and the name ends where the ':' goes.
    WSPULSE_FUZZ_CHECK(!name.empty());
    for (char c : name)
      WSPULSE_FUZZ_CHECK(
          !is_space_or_control(c) && c != ':' && static_cast<unsigned char>(c) < 0x80, name);
    for (char c : value) WSPULSE_FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0', value);
    WSPULSE_FUZZ_CHECK(opts.dial_headers().size() == 1 && opts.dial_headers()[0].first == name &&
                       opts.dial_headers()[0].second == value);
  }
  WSPULSE_FUZZ_CHECK(wspulse::redact_header(name, value) == name + ": ***");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  const std::uint8_t mode = in.byte();
  if (mode % 2 == 0) {
    const std::string_view url = in.rest();
    fuzz_normalize(url);
    fuzz_redact(url);
  } else {
    fuzz_header(in);
  }
  return 0;
}
