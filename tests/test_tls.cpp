// wspulse_client tests — wss:// on loopback: certificates made by the test (openssl CLI), a
// Python websockets peer; peer and host-name verification, SNI, and the failure reasons.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/child_process.hpp"
#include "support/recorder.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#ifdef WSPULSE_CLIENT_ENABLE_TLS

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::reason;
using wspulse::test_support::child_process;
using wspulse::test_support::recorder;

namespace {

using quiet_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>;

std::string tests_dir() {
#ifdef WSPULSE_TESTS_DIR
  return WSPULSE_TESTS_DIR;
#else
  return std::filesystem::path(__FILE__).parent_path().string();
#endif
}

// A self-signed certificate for `san` (e.g. "DNS:localhost,IP:127.0.0.1") in dir/name.{crt,key}.
bool make_cert(const std::filesystem::path& dir, const std::string& name, const std::string& san) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
      "/CN=wspulse-test -addext subjectAltName=" +
      san + " -keyout " + (dir / (name + ".key")).string() + " -out " +
      (dir / (name + ".crt")).string() + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

struct tls_peer {
  std::unique_ptr<child_process> process;
  std::string port;

  tls_peer(const std::filesystem::path& dir, const std::string& name) {
    process = std::make_unique<child_process>(std::vector<std::string>{
        "/usr/bin/python3", tests_dir() + "/support/tls_echo_server.py",
        (dir / (name + ".crt")).string(), (dir / (name + ".key")).string()});
    const auto line = process->first_line(10s);
    if (line && line->rfind("READY ", 0) == 0) port = line->substr(6);
  }
};

struct tls_fixture {
  std::filesystem::path dir;
  tls_fixture() {
    dir = std::filesystem::temp_directory_path() /
          ("wspulse-tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    std::filesystem::create_directories(dir);
    REQUIRE(make_cert(dir, "good", "DNS:localhost,IP:127.0.0.1"));
    REQUIRE(make_cert(dir, "other", "DNS:other.example"));
  }
  ~tls_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string ca(const std::string& name) const { return (dir / (name + ".crt")).string(); }
};

std::string sni_seen(const recorder& rec) {
  REQUIRE(rec.wait_frames(1));
  const auto f = rec.frames().front();
  REQUIRE(f.event == "tls.sni");
  return f.payload;
}

}  // namespace

TEST_SUITE("tls") {
  TEST_CASE("wss:// with peer and host-name verification") {
    tls_fixture fx;
    tls_peer peer(fx.dir, "good");
    REQUIRE_FALSE(peer.port.empty());

    SUBCASE("host name: verified, SNI sent, frames flow") {
      recorder rec;
      quiet_client::options opts;
      opts.tls_ca_file(fx.ca("good"));
      auto c = quiet_client::dial("wss://localhost:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"localhost\"");
      REQUIRE(c.send({"1", "tls.echo", "{\"secure\":true}"}) == std::error_code{});
      REQUIRE(rec.wait_frames(2));
      CHECK(rec.frames()[1] == wspulse::frame{"1", "tls.echo", "{\"secure\":true}"});
      c.close();
      CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    }
    SUBCASE("IP literal: verified against the IP SAN, no SNI (RFC 6066)") {
      recorder rec;
      quiet_client::options opts;
      opts.tls_ca_file(fx.ca("good"));
      auto c = quiet_client::dial("https://127.0.0.1:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"\"");
    }
    SUBCASE("self-signed certificate not in the trusted CAs: refused with the cause") {
      reason why;
      auto c = quiet_client::dial("wss://localhost:" + peer.port + "/ws", {}, why);
      CHECK_FALSE(c);
      CHECK(why.code == errc::tls_handshake_failed);
      CHECK_FALSE(why.detail.empty());
      MESSAGE("detail: " << why.detail);
    }
    SUBCASE("tls_verify(false) accepts it (development only)") {
      recorder rec;
      quiet_client::options opts;
      opts.tls_verify(false);
      auto c = quiet_client::dial("wss://localhost:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"localhost\"");
    }
    SUBCASE("a CA file that does not exist: a clear error, no connection") {
      reason why;
      quiet_client::options opts;
      opts.tls_ca_file((fx.dir / "missing.crt").string());
      auto c = quiet_client::dial("wss://localhost:" + peer.port + "/ws", opts, why);
      CHECK_FALSE(c);
      CHECK(why.code == errc::tls_handshake_failed);
      CHECK(why.detail.find("missing.crt") != std::string::npos);
    }
  }

  TEST_CASE("a certificate for another host is refused") {
    tls_fixture fx;
    tls_peer peer(fx.dir, "other");
    REQUIRE_FALSE(peer.port.empty());
    reason why;
    quiet_client::options opts;
    opts.tls_ca_file(fx.ca("other"));  // trusted, but issued to other.example
    auto c = quiet_client::dial("wss://localhost:" + peer.port + "/ws", opts, why);
    CHECK_FALSE(c);
    CHECK(why.code == errc::tls_handshake_failed);
    CHECK(why.detail == "certificate does not match the host name");
  }
}

#else

TEST_SUITE("tls") {
  TEST_CASE("wss:// without TLS compiled in fails with tls_unavailable, before any I/O") {
    wspulse::reason why;
    auto c = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>::dial(
        "wss://127.0.0.1:1/ws", {}, why);
    CHECK_FALSE(c);
    CHECK(why.code == wspulse::errc::tls_unavailable);
  }
}

#endif
