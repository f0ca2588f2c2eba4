// wspulse_client tests — the message unit: wspulse::frame and wspulse::wire_type.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

TEST_SUITE("frame") {
  TEST_CASE("a default frame has every field empty") {
    const wspulse::frame f;
    CHECK(f.id.empty());
    CHECK(f.event.empty());
    CHECK(f.payload.empty());
    CHECK(f == wspulse::frame{});
    CHECK_FALSE(f != wspulse::frame{});
  }

  TEST_CASE("== and != compare every field") {
    const wspulse::frame base{"1", "chat", R"({"text":"hi"})"};
    wspulse::frame other = base;
    REQUIRE(other == base);
    REQUIRE_FALSE(other != base);

    SUBCASE("id") { other.id = "2"; }
    SUBCASE("event") { other.event = "chat2"; }
    SUBCASE("payload") { other.payload = R"({"text":"ho"})"; }
    SUBCASE("id emptied") { other.id.clear(); }
    SUBCASE("payload with a trailing byte") { other.payload += ' '; }

    CHECK_FALSE(other == base);
    CHECK(other != base);
    CHECK_FALSE(base == other);
    CHECK(base != other);
  }

  TEST_CASE("fields do not bleed into each other") {
    // The same text in different fields is a different frame.
    CHECK(wspulse::frame{"x", "", ""} != wspulse::frame{"", "x", ""});
    CHECK(wspulse::frame{"", "x", ""} != wspulse::frame{"", "", "x"});
    CHECK(wspulse::frame{"ab", "c", ""} != wspulse::frame{"a", "bc", ""});
  }

  TEST_CASE("payload may hold arbitrary bytes") {
    const std::string bytes("\0\x01\xff", 3);
    const wspulse::frame a{"", "", bytes};
    const wspulse::frame b{"", "", std::string("\0\x01\xfe", 3)};
    CHECK(a.payload.size() == 3);
    CHECK(a != b);
    CHECK(a == wspulse::frame{"", "", bytes});
  }

  TEST_CASE("wire_type values are the WebSocket opcodes") {
    static_assert(std::is_same_v<std::underlying_type_t<wspulse::wire_type>, std::uint8_t>);
    CHECK(static_cast<int>(wspulse::wire_type::text) == 1);
    CHECK(static_cast<int>(wspulse::wire_type::binary) == 2);
  }

  TEST_CASE("frame is copyable and nothrow movable") {
    static_assert(std::is_copy_constructible_v<wspulse::frame>);
    static_assert(std::is_copy_assignable_v<wspulse::frame>);
    static_assert(std::is_nothrow_move_constructible_v<wspulse::frame>);
    static_assert(std::is_nothrow_move_assignable_v<wspulse::frame>);
    static_assert(std::is_nothrow_default_constructible_v<wspulse::frame>);

    const wspulse::frame original{"7", "move", std::string(1000, 'p')};
    wspulse::frame copy = original;
    CHECK(copy == original);

    wspulse::frame moved = std::move(copy);
    CHECK(moved == original);

    wspulse::frame assigned;
    assigned = original;
    CHECK(assigned == original);
    wspulse::frame move_assigned;
    move_assigned = std::move(assigned);
    CHECK(move_assigned == original);
  }
}
