// wspulse_client tests — error codes, the "wspulse" category, reason and dial_error.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <doctest/doctest.h>

#include <iterator>  // std::size
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace {
// Every enumerator, in declaration order.
constexpr wspulse::errc all_errcs[] = {
    wspulse::errc::connection_closed, wspulse::errc::send_buffer_full,
    wspulse::errc::invalid_payload,   wspulse::errc::decode_failed,
    wspulse::errc::connection_lost,   wspulse::errc::retries_exhausted,
    wspulse::errc::server_closed,     wspulse::errc::handshake_rejected,
    wspulse::errc::handshake_timeout, wspulse::errc::heartbeat_timeout,
    wspulse::errc::write_timeout,     wspulse::errc::message_too_big,
    wspulse::errc::callback_failed,   wspulse::errc::invalid_url,
    wspulse::errc::tls_unavailable,
};

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}
}  // namespace

TEST_SUITE("errors") {
  TEST_CASE("the category is named wspulse and is one object") {
    CHECK(std::string(wspulse::error_category().name()) == "wspulse");
    CHECK(&wspulse::error_category() == &wspulse::error_category());
    const std::error_code ec = wspulse::errc::connection_lost;
    CHECK(&ec.category() == &wspulse::error_category());
  }

  TEST_CASE("enumerator values are stable") {
    CHECK(static_cast<int>(wspulse::errc::connection_closed) == 1);
    CHECK(static_cast<int>(wspulse::errc::tls_unavailable) == 15);
    int expected = 1;
    for (const wspulse::errc e : all_errcs) CHECK(static_cast<int>(e) == expected++);
  }

  TEST_CASE("every errc has a distinct non-empty message") {
    std::set<std::string> seen;
    for (const wspulse::errc e : all_errcs) {
      const std::string msg = wspulse::make_error_code(e).message();
      INFO("errc value ", static_cast<int>(e));
      CHECK_FALSE(msg.empty());
      CHECK(msg != "unknown wspulse error");
      CHECK(seen.insert(msg).second);
    }
    CHECK(seen.size() == std::size(all_errcs));
    // Values outside the enum still get a message rather than an empty string.
    CHECK_FALSE(wspulse::error_category().message(0).empty());
    CHECK_FALSE(wspulse::error_category().message(999).empty());
  }

  TEST_CASE("errc is an error_code enum") {
    static_assert(std::is_error_code_enum_v<wspulse::errc>);
    static_assert(std::is_convertible_v<wspulse::errc, std::error_code>);
    static_assert(!std::is_error_condition_enum_v<wspulse::errc>);
  }

  TEST_CASE("an error_code compares with the enum, not with std::errc") {
    const std::error_code ec = wspulse::errc::send_buffer_full;
    CHECK(ec);
    CHECK(ec == wspulse::errc::send_buffer_full);
    CHECK(ec != wspulse::errc::connection_closed);
    CHECK(ec.value() == static_cast<int>(wspulse::errc::send_buffer_full));
    CHECK(ec.message() == "send buffer full");

    // Same numeric value in another category is a different error.
    const std::error_code generic = std::make_error_code(
        static_cast<std::errc>(static_cast<int>(wspulse::errc::send_buffer_full)));
    CHECK(generic.value() == ec.value());
    CHECK(ec != generic);
    CHECK(ec != std::errc::no_buffer_space);
    CHECK(ec != std::errc::operation_would_block);
    CHECK_FALSE(ec == static_cast<std::errc>(ec.value()));
  }

  TEST_CASE("a default reason is falsy and reads no error") {
    const wspulse::reason r;
    CHECK_FALSE(r);
    CHECK_FALSE(r.code);
    CHECK(r.close_code == 0);
    CHECK(r.close_text.empty());
    CHECK(r.http_status == 0);
    CHECK(r.message() == "no error");
  }

  TEST_CASE("reason converts from errc and error_code") {
    const wspulse::reason from_enum = wspulse::errc::heartbeat_timeout;
    CHECK(from_enum);
    CHECK(from_enum.code == wspulse::errc::heartbeat_timeout);
    CHECK(from_enum.message() ==
          wspulse::make_error_code(wspulse::errc::heartbeat_timeout).message());

    const wspulse::reason from_code = std::error_code(wspulse::errc::write_timeout);
    CHECK(from_code.code == wspulse::errc::write_timeout);
  }

  TEST_CASE("reason::message renders close code, close text and HTTP status") {
    SUBCASE("close code and text") {
      wspulse::reason r = wspulse::errc::server_closed;
      r.close_code = 1000;
      r.close_text = "kicked";
      CHECK(r.message() == "server closed the connection (close 1000 \"kicked\")");
    }
    SUBCASE("close code without text") {
      wspulse::reason r = wspulse::errc::server_closed;
      r.close_code = 4001;
      const std::string msg = r.message();
      CHECK(msg.find("4001") != std::string::npos);
      CHECK(msg.find('"') == std::string::npos);
    }
    SUBCASE("HTTP status") {
      wspulse::reason r = wspulse::errc::handshake_rejected;
      r.http_status = 401;
      CHECK(r.message() == "server rejected the handshake (HTTP 401)");
    }
    SUBCASE("every detail at once") {
      wspulse::reason r = wspulse::errc::connection_lost;
      r.close_code = 1011;
      r.close_text = "oops";
      r.http_status = 503;
      const std::string msg = r.message();
      CHECK(msg.rfind("connection lost", 0) == 0);
      CHECK(msg.find("1011") != std::string::npos);
      CHECK(msg.find("oops") != std::string::npos);
      CHECK(msg.find("503") != std::string::npos);
    }
  }

  TEST_CASE("dial_error is a system_error carrying the reason") {
    static_assert(std::is_base_of_v<std::system_error, wspulse::dial_error>);
    static_assert(std::is_nothrow_copy_constructible_v<wspulse::dial_error>);

    wspulse::reason r = wspulse::errc::handshake_rejected;
    r.http_status = 403;

    try {
      throw wspulse::dial_error(r);
    } catch (const std::system_error& e) {
      CHECK(e.code() == wspulse::errc::handshake_rejected);
      const auto* de = dynamic_cast<const wspulse::dial_error*>(&e);
      REQUIRE(de != nullptr);
      CHECK(de->why().code == wspulse::errc::handshake_rejected);
      CHECK(de->why().http_status == 403);
      CHECK(de->why().message() == r.message());
    }
  }

  TEST_CASE("dial_error::what is readable and says the cause once") {
    SUBCASE("rejected handshake") {
      wspulse::reason r = wspulse::errc::handshake_rejected;
      r.http_status = 401;
      const wspulse::dial_error e(r);
      const std::string what = e.what();
      CHECK(what == "wspulse: dial failed: server rejected the handshake (HTTP 401)");
      CHECK(count_of(what, "server rejected the handshake") == 1);
    }
    SUBCASE("every code") {
      for (const wspulse::errc code : all_errcs) {
        const wspulse::dial_error e{wspulse::reason(code)};
        const std::string what = e.what();
        const std::string msg = wspulse::make_error_code(code).message();
        INFO(what);
        CHECK(what.rfind("wspulse: ", 0) == 0);
        CHECK(count_of(what, msg) == 1);
      }
    }
    SUBCASE("copies share the text and the reason") {
      wspulse::reason r = wspulse::errc::server_closed;
      r.close_code = 1008;
      r.close_text = "policy";
      const wspulse::dial_error e(r);
      const wspulse::dial_error copy = e;  // NOLINT(performance-unnecessary-copy-initialization)
      CHECK(std::string(copy.what()) == e.what());
      CHECK(copy.why().close_text == "policy");
      CHECK(copy.code() == e.code());
    }
  }
}
