// wspulse_client tests — wss:// on loopback: certificates made by the test (openssl CLI), a
// Python websockets peer; peer and host-name verification, SNI, misuse refused with its reason
// (expired, not yet valid, self-signed, wrong host, wrong CA, TLS < 1.2), the tls_verify(false)
// warning, and mutual TLS (tls_client_cert).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include "support/child_process.hpp"
#include "support/connect_proxy.hpp"
#include "support/recorder.hpp"
#include "support/wait_until.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifdef WSPULSE_CLIENT_ENABLE_TLS

using namespace std::chrono_literals;
using wspulse::errc;
using wspulse::reason;
using wspulse::test_support::child_process;
using wspulse::test_support::recorder;
using wspulse::test_support::wait_until;

namespace {

using tls_test_client = wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>;

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

// A CA (dir/name.{crt,key}) that signs the leaves made by make_leaf.
bool make_ca(const std::filesystem::path& dir, const std::string& name) {
  const std::string cmd =
      "cd " + dir.string() +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=" +
      name + " -keyout " + name + ".key -out " + name + ".crt >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// A certificate for `san` signed by the CA `ca`, valid from `start` to `end` (openssl ca
// dates, YYYYMMDDHHMMSSZ; empty: from now, for a day).
bool make_leaf(const std::filesystem::path& dir, const std::string& name, const std::string& ca,
               const std::string& san, const std::string& start = {}, const std::string& end = {}) {
  std::ofstream(dir / "ca.cnf") << "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = index.txt\n"
                                   "new_certs_dir = .\nrand_serial = yes\ndefault_md = sha256\n"
                                   "policy = any\ncopy_extensions = copy\nunique_subject = no\n"
                                   "default_days = 1\n[any]\ncommonName = supplied\n";
  std::ofstream(dir / "index.txt", std::ios::app).flush();
  const std::string dates =
      (start.empty() ? "" : " -startdate " + start) + (end.empty() ? "" : " -enddate " + end);
  const std::string cmd =
      "cd " + dir.string() +
      " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" +
      name + " -addext subjectAltName=" + san + " -keyout " + name + ".key -out " + name +
      ".csr >/dev/null 2>&1 && openssl ca -batch -notext -config ca.cnf -cert " + ca +
      ".crt -keyfile " + ca + ".key -in " + name + ".csr -out " + name + ".crt" + dates +
      " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

struct tls_peer {
  std::unique_ptr<child_process> process;
  std::string port;

  /// Serves dir/name.{crt,key}; `extra`: tls_echo_server.py options (--max-tls, --client-ca).
  tls_peer(const std::filesystem::path& dir, const std::string& name,
           const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"/usr/bin/python3", tests_dir() + "/support/tls_echo_server.py",
                                  (dir / (name + ".crt")).string(),
                                  (dir / (name + ".key")).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<child_process>(argv);
    const auto line = process->first_line(10s);
    if (line && line->rfind("READY ", 0) == 0) port = line->substr(6);
  }
};

// The reason a dial to wss://localhost:<port> with `opts` fails (a failure is required).
template <class Options>
reason refusal(const tls_peer& peer, Options opts) {
  reason why;
  auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", std::move(opts), why);
  CHECK_FALSE(c);
  CHECK(why.code == errc::tls_handshake_failed);
  return why;
}

// Keeps every record, for tests that look at what the client logged.
struct capture_logger {
  struct record {
    wspulse::log_level level;
    std::string message;
  };
  struct state {
    std::mutex mu;
    std::vector<record> records;
  };
  static constexpr bool enabled = true;
  std::shared_ptr<state> shared = std::make_shared<state>();  // copies share the records

  void log(wspulse::log_level level, std::string_view message,
           std::initializer_list<wspulse::log_field>) const {
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->records.push_back({level, std::string(message)});
  }
  std::size_t count(wspulse::log_level level, std::string_view part) const {
    std::lock_guard<std::mutex> lock(shared->mu);
    std::size_t n = 0;
    for (const record& r : shared->records)
      n += r.level == level && r.message.find(part) != std::string::npos;
    return n;
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
      tls_test_client::options opts;
      opts.tls_ca_file(fx.ca("good"));
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"localhost\"");
      REQUIRE(c.send({"1", "tls.echo", "{\"secure\":true}"}) == std::error_code{});
      REQUIRE(rec.wait_frames(2));
      CHECK(rec.frames()[1] == wspulse::frame{"1", "tls.echo", "{\"secure\":true}"});
      c.close();
      CHECK(rec.lifecycle() == std::vector<std::string>{"drop", "disconnect"});
    }
    SUBCASE("through an HTTP CONNECT proxy (issue 9 §4): TLS end to end inside the tunnel") {
      wspulse::test_support::connect_proxy proxy;
      recorder rec;
      tls_test_client::options opts;
      opts.tls_ca_file(fx.ca("good")).proxy(proxy.url());
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"localhost\"");  // verified and named as without the proxy
      REQUIRE(c.send({"1", "tls.echo", "{}"}) == std::error_code{});
      REQUIRE(rec.wait_frames(2));
      CHECK(rec.frames()[1] == wspulse::frame{"1", "tls.echo", "{}"});
      c.close();
      REQUIRE(proxy.requests().size() == 1);
      CHECK(proxy.requests()[0].rfind("CONNECT localhost:" + peer.port + " HTTP/1.1\r\n", 0) == 0);
    }
    SUBCASE("IP literal: verified against the IP SAN, no SNI (RFC 6066)") {
      recorder rec;
      tls_test_client::options opts;
      opts.tls_ca_file(fx.ca("good"));
      auto c = tls_test_client::dial("https://127.0.0.1:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"\"");
    }
    SUBCASE("self-signed certificate not in the trusted CAs: refused with the cause") {
      reason why;
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", {}, why);
      CHECK_FALSE(c);
      CHECK(why.code == errc::tls_handshake_failed);
      CHECK(why.detail == "self-signed certificate");
    }
    SUBCASE("tls_verify(false) accepts it (development only)") {
      recorder rec;
      tls_test_client::options opts;
      opts.tls_verify(false);
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", rec.attach(opts));
      CHECK(sni_seen(rec) == "\"localhost\"");
    }
    SUBCASE("a CA file that does not exist: a clear error, no connection") {
      reason why;
      tls_test_client::options opts;
      opts.tls_ca_file((fx.dir / "missing.crt").string());
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", opts, why);
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
    tls_test_client::options opts;
    opts.tls_ca_file(fx.ca("other"));  // trusted, but issued to other.example
    auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", opts, why);
    CHECK_FALSE(c);
    CHECK(why.code == errc::tls_handshake_failed);
    CHECK(why.detail == "certificate does not match the host name");
  }

  TEST_CASE("TLS misuse is refused by default, with a reason that says why") {
    tls_fixture fx;
    REQUIRE(make_ca(fx.dir, "ca"));
    REQUIRE(make_ca(fx.dir, "other-ca"));
    const std::string san = "DNS:localhost,IP:127.0.0.1";
    tls_test_client::options trust_ca;
    trust_ca.tls_ca_file(fx.ca("ca"));

    SUBCASE("expired certificate") {
      REQUIRE(make_leaf(fx.dir, "expired", "ca", san, "20200101000000Z", "20200102000000Z"));
      tls_peer peer(fx.dir, "expired");
      REQUIRE_FALSE(peer.port.empty());
      CHECK(refusal(peer, trust_ca).detail == "certificate has expired");
    }
    SUBCASE("certificate not yet valid") {
      REQUIRE(make_leaf(fx.dir, "future", "ca", san, "20991231000000Z", "21000101000000Z"));
      tls_peer peer(fx.dir, "future");
      REQUIRE_FALSE(peer.port.empty());
      CHECK(refusal(peer, trust_ca).detail == "certificate is not yet valid");
    }
    SUBCASE("certificate issued by a CA that is not trusted") {
      REQUIRE(make_leaf(fx.dir, "leaf", "ca", san));
      tls_peer peer(fx.dir, "leaf");
      REQUIRE_FALSE(peer.port.empty());
      tls_test_client::options trust_other;
      trust_other.tls_ca_file(fx.ca("other-ca"));
      CHECK(refusal(peer, trust_other).detail == "unable to get local issuer certificate");
      // The control: the right CA accepts the same server.
      reason why;
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", trust_ca, why);
      CHECK(c);
    }
    SUBCASE("a server offering only TLS 1.0 or 1.1") {
      REQUIRE(make_leaf(fx.dir, "leaf", "ca", san));
      for (const char* version : {"1.0", "1.1"}) {
        CAPTURE(version);
        tls_peer peer(fx.dir, "leaf", {"--max-tls", version});
        REQUIRE_FALSE(peer.port.empty());
        CHECK(refusal(peer, trust_ca).detail ==
              "protocol version refused: the server supports neither TLS 1.2 nor TLS 1.3");
      }
    }
  }

  TEST_CASE("tls_verify(false) logs a warning once per client, not once per dial") {
    using logging_client = wspulse::basic_client<wspulse::json_codec, capture_logger>;
    tls_fixture fx;
    tls_peer peer(fx.dir, "good");
    REQUIRE_FALSE(peer.port.empty());
    const std::string url = "wss://localhost:" + peer.port + "/ws";
    constexpr std::string_view warning = "TLS verification is off";

    SUBCASE("verification off: one warning, across a reconnect") {
      recorder rec;
      logging_client::options opts;
      capture_logger logger;
      opts.logger(logger).tls_verify(false).auto_reconnect(0, 10ms, 50ms);
      auto c = logging_client::dial(url, rec.attach(opts));
      CHECK(logger.count(wspulse::log_level::warn, warning) == 1);
      REQUIRE(c.send({"", "tls.close", ""}) == std::error_code{});  // the peer closes: redial
      REQUIRE(wait_until(
          [&] { return logger.count(wspulse::log_level::info, "transport restored") == 1; }, 10s));
      CHECK(logger.count(wspulse::log_level::warn, warning) == 1);
    }
    SUBCASE("verification on: no warning") {
      logging_client::options opts;
      capture_logger logger;
      opts.logger(logger).tls_ca_file(fx.ca("good"));
      auto c = logging_client::dial(url, opts);
      CHECK(logger.count(wspulse::log_level::info, "connected") == 1);
      CHECK(logger.count(wspulse::log_level::warn, warning) == 0);
    }
  }

  TEST_CASE("mutual TLS: tls_client_cert against a server that requires a client certificate") {
    tls_fixture fx;
    REQUIRE(make_ca(fx.dir, "ca"));
    REQUIRE(make_ca(fx.dir, "other-ca"));
    REQUIRE(make_leaf(fx.dir, "server", "ca", "DNS:localhost"));
    REQUIRE(make_leaf(fx.dir, "client", "ca", "DNS:client.example"));
    REQUIRE(make_leaf(fx.dir, "stranger", "other-ca", "DNS:client.example"));
    tls_peer peer(fx.dir, "server", {"--client-ca", fx.ca("ca")});
    REQUIRE_FALSE(peer.port.empty());
    const auto file = [&](const std::string& name) { return (fx.dir / name).string(); };
    tls_test_client::options opts;
    opts.tls_ca_file(fx.ca("ca"));

    SUBCASE("a certificate the server trusts: connected, frames flow") {
      recorder rec;
      opts.tls_client_cert(file("client.crt"), file("client.key"));
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", rec.attach(opts));
      REQUIRE(rec.wait_frames(1));
      REQUIRE(c.send({"1", "tls.echo", "{\"mutual\":true}"}) == std::error_code{});
      REQUIRE(rec.wait_frames(2));
      CHECK(rec.frames()[1] == wspulse::frame{"1", "tls.echo", "{\"mutual\":true}"});
    }
    SUBCASE("no client certificate: refused, the server's request as the reason") {
      CHECK(refusal(peer, opts).detail ==
            "the server asks for a client certificate and none is set (tls_client_cert)");
    }
    SUBCASE("a certificate from a CA the server does not trust: refused") {
      // The server closes without an alert (asyncio drops it): no connection is all one sees.
      opts.tls_client_cert(file("stranger.crt"), file("stranger.key"));
      reason why;
      auto c = tls_test_client::dial("wss://localhost:" + peer.port + "/ws", opts, why);
      CHECK_FALSE(c);
      CHECK(why);
    }
    SUBCASE("a certificate file that does not exist: the reason names it") {
      opts.tls_client_cert(file("missing.crt"), file("client.key"));
      const reason why = refusal(peer, opts);
      CHECK(why.detail.rfind("cannot use client certificate file '", 0) == 0);
      CHECK(why.detail.find("missing.crt") != std::string::npos);
    }
    SUBCASE("a key file that does not exist: the reason names it") {
      opts.tls_client_cert(file("client.crt"), file("missing.key"));
      const reason why = refusal(peer, opts);
      CHECK(why.detail.rfind("cannot use client key file '", 0) == 0);
      CHECK(why.detail.find("missing.key") != std::string::npos);
    }
    SUBCASE("a key that does not match the certificate") {
      opts.tls_client_cert(file("client.crt"), file("stranger.key"));
      const reason why = refusal(peer, opts);
      CHECK(why.detail.rfind("cannot use client key file '", 0) == 0);
      CHECK(why.detail.find("mismatch") != std::string::npos);
    }
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

// The option exists in every build (options are the same type with and without TLS).
TEST_SUITE("tls") {
  TEST_CASE("tls_client_cert refuses an empty path at once") {
    wspulse::basic_client<wspulse::json_codec, wspulse::null_logger>::options opts;
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "k.pem"}, {"c.pem", ""}, {"", ""}};
    for (const auto& files : cases) {
      CAPTURE(files.first);
      CAPTURE(files.second);
      try {
        opts.tls_client_cert(files.first, files.second);
        FAIL("accepted an empty path");
      } catch (const std::invalid_argument& ex) {
        CHECK(std::string(ex.what()) ==
              "wspulse: tls_client_cert needs a certificate file and a key file");
      }
    }
    CHECK(opts.tls_client_cert_file().empty());
    CHECK(opts.tls_client_key_file().empty());
  }
}
