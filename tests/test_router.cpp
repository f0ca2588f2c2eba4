// wspulse_client tests — router: middleware order, next/abort, values, fallback, recovery,
// registration errors.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <wspulse_client.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using wspulse::frame;
using wspulse::router;

TEST_SUITE("router") {
  TEST_CASE("middleware wraps handlers in order; handlers of the event run in order") {
    router r;
    std::vector<std::string> trace;
    r.use([&](router::context& c) {
       trace.push_back("m1 before");
       c.next();
       trace.push_back("m1 after");
     })
        .use([&](router::context&) { trace.push_back("m2"); })
        .on(
            "chat.message", [&](router::context&) { trace.push_back("h1"); },
            [&](router::context& c) { trace.push_back("h2 " + c.frame.payload); });
    CHECK(r.dispatch(frame{"", "chat.message", "{\"t\":1}"}));
    CHECK(trace == std::vector<std::string>{"m1 before", "m2", "h1", "h2 {\"t\":1}", "m1 after"});
  }

  TEST_CASE("abort stops the chain; values pass between handlers") {
    router r;
    std::vector<std::string> trace;
    r.use([&](router::context& c) {
      c.set("user", std::string("alice"));
      if (c.frame.id == "deny") c.abort();
    });
    r.on("e", [&](router::context& c) {
      const std::string* user = c.get_as<std::string>("user");
      REQUIRE(user != nullptr);
      CHECK(c.get_as<int>("user") == nullptr);  // wrong type
      CHECK(c.get("missing") == nullptr);
      trace.push_back(*user);
    });
    r.dispatch(frame{"deny", "e", ""});
    CHECK(trace.empty());
    r.dispatch(frame{"ok", "e", ""});
    CHECK(trace == std::vector<std::string>{"alice"});
  }

  TEST_CASE("unrouted frames go to the fallback, or nowhere") {
    router r;
    r.on("known", [](router::context&) {});
    CHECK_FALSE(r.dispatch(frame{"", "unknown", ""}));
    CHECK_FALSE(r.dispatch(frame{}));
    std::vector<std::string> seen;
    r.fallback([&](router::context& c) { seen.push_back(c.frame.event); });
    CHECK(r.dispatch(frame{"", "unknown", ""}));
    CHECK(r.dispatch(frame{}));
    CHECK(r.dispatch(frame{"", "known", ""}));
    CHECK(seen == std::vector<std::string>{"unknown", ""});
  }

  TEST_CASE("recovery catches what later handlers throw and aborts the chain") {
    router r;
    std::string caught;
    bool after_ran = false;
    r.use(router::recovery([&](router::context& c, std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        caught = c.frame.event + ": " + ex.what();
      }
    }));
    r.on(
        "boom", [](router::context&) { throw std::runtime_error("bad payload"); },
        [&](router::context&) { after_ran = true; });
    CHECK_NOTHROW(r.dispatch(frame{"", "boom", ""}));
    CHECK(caught == "boom: bad payload");
    CHECK_FALSE(after_ran);

    SUBCASE("without recovery the exception propagates to the caller") {
      router bare;
      bare.on("boom", [](router::context&) { throw std::runtime_error("x"); });
      CHECK_THROWS_AS(bare.dispatch(frame{"", "boom", ""}), std::runtime_error);
    }
  }

  TEST_CASE("registration errors throw std::invalid_argument") {
    router r;
    r.on("dup", [](router::context&) {});
    CHECK_THROWS_AS(r.on("", [](router::context&) {}), std::invalid_argument);
    CHECK_THROWS_AS(r.on("dup", [](router::context&) {}), std::invalid_argument);
    CHECK_THROWS_AS(r.on("nil", router::handler{}), std::invalid_argument);
    CHECK_THROWS_AS(r.use(router::handler{}), std::invalid_argument);
    CHECK_THROWS_AS(r.fallback(router::handler{}), std::invalid_argument);
    // A failed registration changed nothing.
    int calls = 0;
    r.fallback([&](router::context&) { ++calls; });
    CHECK(r.dispatch(frame{"", "nil", ""}));
    CHECK(calls == 1);
    try {
      r.on("dup", [](router::context&) {});
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) == "wspulse: router event 'dup' is already registered");
    }
  }
}
