// wspulse_client tests — logging (log_field, json_logger, ostream_logger, null_logger) and the
// redaction helpers applied before anything is logged.
// SPDX-License-Identifier: MIT
#include <wspulse_client.hpp>

#include <doctest/doctest.h>
#include <rapidjson/document.h>  // parse json_logger output back

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using wspulse::log_field;
using wspulse::log_level;

// A temporary FILE* that json_logger writes to, read back as text.
class temp_file {
 public:
  temp_file() : f_(std::tmpfile()) { REQUIRE(f_ != nullptr); }
  ~temp_file() {
    if (f_) std::fclose(f_);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  std::FILE* get() const { return f_; }

  std::string contents() const {
    std::fflush(f_);
    std::rewind(f_);
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), f_)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  std::FILE* f_;
};

// Splits on '\n'; every line must be terminated.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  CHECK_MESSAGE(start == text.size(), "output does not end with a newline");
  return lines;
}

constexpr unsigned parse_flags =
    rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;

// Parses one line as a JSON object (the whole line, nothing after it).
rapidjson::Document parse_line(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse<parse_flags>(line.data(), line.size());
  INFO("line: ", line);
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

std::string_view str(const rapidjson::Value& v) {
  REQUIRE(v.IsString());
  return {v.GetString(), v.GetStringLength()};
}

const rapidjson::Value& member(const rapidjson::Value& obj, const char* key) {
  INFO("key: ", key);
  const auto it = obj.FindMember(key);
  REQUIRE(it != obj.MemberEnd());
  return it->value;
}

// Independent statement of where redact_url must hide a value: in a query value, in the
// fragment, or before an '@' that precedes the query. (In the path or as a bare query key it
// is shown by design.)
bool must_hide(const std::string& url) {
  const std::size_t secret = url.find("SECRET");
  const std::size_t query = url.find('?');
  const std::size_t fragment = url.find('#');
  if (fragment < secret) return true;
  if (query < secret && fragment > secret) {
    const std::string part_before = url.substr(query, secret - query);
    const std::size_t amp = part_before.rfind('&');
    return part_before.find('=', amp == std::string::npos ? 0 : amp) != std::string::npos;
  }
  const std::size_t at = url.find('@', secret);
  return at != std::string::npos && at < query && at < fragment;
}

// "2026-11-25T19:50:12.345Z"
bool is_utc_timestamp(std::string_view s) {
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

// `"ts":` followed by at least 10 digits, a dot and exactly 6 digits, then a comma.
bool ts_is_seconds_with_micros(const std::string& line) {
  const std::size_t at = line.find("\"ts\":");
  if (at == std::string::npos) return false;
  std::size_t i = at + 5;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
    return i - start;
  };
  if (digits() < 10 || i >= line.size() || line[i++] != '.') return false;
  return digits() == 6 && i < line.size() && line[i] == ',';
}

// The call shape the client uses.
template <class Logger>
void log_like_the_client(const Logger& logger, const std::string& redacted) {
  if constexpr (Logger::enabled) {
    logger.log(log_level::info, "transport dropped",
               {{"url", redacted}, {"code", 1000}, {"reconnect", true}});
  }
}

// A user-written logger: the concept needs nothing else.
struct counting_logger {
  static constexpr bool enabled = true;
  int* calls;
  void log(log_level, std::string_view, std::initializer_list<log_field> fields) const {
    *calls += 1 + static_cast<int>(fields.size());
  }
};

}  // namespace

TEST_SUITE("logger") {
  TEST_CASE("log_level names") {
    static_assert(std::is_same_v<std::underlying_type_t<log_level>, std::uint8_t>);
    static_assert(wspulse::to_string(log_level::info) == "info");
    CHECK(wspulse::to_string(log_level::debug) == "debug");
    CHECK(wspulse::to_string(log_level::info) == "info");
    CHECK(wspulse::to_string(log_level::warn) == "warn");
    CHECK(wspulse::to_string(log_level::error) == "error");
    CHECK(log_level::debug < log_level::info);
    CHECK(log_level::warn < log_level::error);
  }

  TEST_CASE("log_field holds every value type without owning anything") {
    static_assert(std::is_trivially_copyable_v<log_field>);
    static_assert(std::is_trivially_destructible_v<log_field>);
    static_assert(sizeof(log_field) <= 48);

    // What the client passes.
    static_assert(std::is_constructible_v<log_field, const char*, std::string_view>);
    static_assert(std::is_constructible_v<log_field, const char*, const char*>);
    static_assert(std::is_constructible_v<log_field, const char*, std::string>);
    static_assert(std::is_constructible_v<log_field, const char*, const std::string&>);
    static_assert(std::is_constructible_v<log_field, const char*, char*>);
    static_assert(std::is_constructible_v<log_field, const char*, std::uint16_t>);
    static_assert(std::is_constructible_v<log_field, const char*, std::size_t>);
    static_assert(std::is_constructible_v<log_field, const char*, long double>);
    // Pointers other than C strings would silently become bool: rejected.
    static_assert(!std::is_constructible_v<log_field, const char*, int*>);
    static_assert(!std::is_constructible_v<log_field, const char*, const void*>);

    constexpr log_field c{"n", 42};
    static_assert(c.type() == log_field::kind::int64 && c.as_int() == 42);

    const std::string owned = "value";
    const char* null_text = nullptr;
    const log_field fields[] = {
        {"sv", std::string_view("view")},
        {"cstr", "literal"},
        {"str", owned},
        {"null", null_text},
        {"neg", -5},
        {"i64", std::numeric_limits<std::int64_t>::min()},
        {"u64", std::numeric_limits<std::uint64_t>::max()},
        {"u8", std::uint8_t{200}},
        {"short", short{-3}},
        {"yes", true},
        {"no", false},
        {"dbl", 0.25},
        {"flt", 1.5f},
    };
    CHECK(fields[0].key() == "sv");
    CHECK(fields[0].type() == log_field::kind::string);
    CHECK(fields[0].as_string() == "view");
    CHECK(fields[1].as_string() == "literal");
    CHECK(fields[2].as_string() == "value");
    CHECK(fields[2].as_string().data() == owned.data());  // a view, not a copy
    CHECK(fields[3].type() == log_field::kind::string);
    CHECK(fields[3].as_string().empty());
    CHECK(fields[4].type() == log_field::kind::int64);
    CHECK(fields[4].as_int() == -5);
    CHECK(fields[5].as_int() == std::numeric_limits<std::int64_t>::min());
    CHECK(fields[6].type() == log_field::kind::uint64);
    CHECK(fields[6].as_uint() == std::numeric_limits<std::uint64_t>::max());
    CHECK(fields[7].type() == log_field::kind::uint64);
    CHECK(fields[7].as_uint() == 200);
    CHECK(fields[8].as_int() == -3);
    CHECK(fields[9].type() == log_field::kind::boolean);
    CHECK(fields[9].as_bool());
    CHECK_FALSE(fields[10].as_bool());
    CHECK(fields[11].type() == log_field::kind::float64);
    CHECK(fields[11].as_double() == 0.25);
    CHECK(fields[12].as_double() == 1.5);

    // Accessors of another kind give zero values, never garbage.
    CHECK(fields[4].as_string().empty());
    CHECK(fields[0].as_int() == 0);
    CHECK(fields[0].as_uint() == 0);
    CHECK(fields[0].as_double() == 0.0);
    CHECK_FALSE(fields[4].as_bool());

    // visit hands over the value with its own type.
    const auto describe = [](const auto& v) -> std::string {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::string_view>) {
        return "s:" + std::string(v);
      } else if constexpr (std::is_same_v<T, bool>) {
        return v ? "b:1" : "b:0";
      } else if constexpr (std::is_same_v<T, std::int64_t>) {
        return "i:" + std::to_string(v);
      } else if constexpr (std::is_same_v<T, std::uint64_t>) {
        return "u:" + std::to_string(v);
      } else {
        static_assert(std::is_same_v<T, double>);
        return "d";
      }
    };
    CHECK(fields[0].visit(describe) == "s:view");
    CHECK(fields[4].visit(describe) == "i:-5");
    CHECK(fields[7].visit(describe) == "u:200");
    CHECK(fields[9].visit(describe) == "b:1");
    CHECK(fields[11].visit(describe) == "d");
  }

  TEST_CASE("the provided loggers and a user logger satisfy the concept") {
    static_assert(wspulse::is_logger_v<wspulse::json_logger>);
    static_assert(wspulse::is_logger_v<wspulse::ostream_logger>);
    static_assert(wspulse::is_logger_v<wspulse::null_logger>);
    static_assert(wspulse::is_logger_v<counting_logger>);
    static_assert(!wspulse::is_logger_v<int>);
    static_assert(!wspulse::is_logger_v<std::string>);

    int calls = 0;
    const counting_logger user{&calls};
    log_like_the_client(user, "ws://h/?t=***");
    CHECK(calls == 4);
    CHECK(wspulse::should_log(user, log_level::debug));  // no enabled_for: everything
  }

  TEST_CASE("json_logger writes one JSON object with every field type") {
    temp_file file;
    const wspulse::json_logger logger(file.get(), log_level::debug);
    const std::string owned = "std::string value";
    const char* null_text = nullptr;

    const double before =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    logger.log(log_level::warn, "all the types",
               {{"sv", std::string_view("view")},
                {"cstr", "literal"},
                {"str", owned},
                {"null", null_text},
                {"neg", -42},
                {"i64min", std::numeric_limits<std::int64_t>::min()},
                {"u64max", std::numeric_limits<std::uint64_t>::max()},
                {"zero", 0},
                {"yes", true},
                {"no", false},
                {"tenth", 0.1},
                {"big", 1e300},
                {"tiny", -2.5e-300},
                {"flt", 1.5f},
                {"nan", std::nan("")},
                {"pinf", std::numeric_limits<double>::infinity()},
                {"ninf", -std::numeric_limits<double>::infinity()}});
    const double after =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

    const auto lines = lines_of(file.contents());
    REQUIRE(lines.size() == 1);
    const auto doc = parse_line(lines[0]);

    // Envelope first, in zap's order.
    const char* envelope[] = {"level", "ts", "logger", "msg"};
    auto it = doc.MemberBegin();
    for (const char* key : envelope) {
      REQUIRE(it != doc.MemberEnd());
      CHECK(str(it->name) == key);
      ++it;
    }
    CHECK(str(member(doc, "level")) == "warn");
    CHECK(str(member(doc, "logger")) == "wspulse");
    CHECK(str(member(doc, "msg")) == "all the types");
    REQUIRE(member(doc, "ts").IsNumber());
    const double ts = member(doc, "ts").GetDouble();
    CHECK(ts >= before - 0.001);
    CHECK(ts <= after + 0.001);
    CHECK(ts_is_seconds_with_micros(lines[0]));

    CHECK(str(member(doc, "sv")) == "view");
    CHECK(str(member(doc, "cstr")) == "literal");
    CHECK(str(member(doc, "str")) == owned);
    CHECK(str(member(doc, "null")).empty());
    REQUIRE(member(doc, "neg").IsInt64());
    CHECK(member(doc, "neg").GetInt64() == -42);
    REQUIRE(member(doc, "i64min").IsInt64());
    CHECK(member(doc, "i64min").GetInt64() == std::numeric_limits<std::int64_t>::min());
    REQUIRE(member(doc, "u64max").IsUint64());
    CHECK(member(doc, "u64max").GetUint64() == std::numeric_limits<std::uint64_t>::max());
    CHECK(member(doc, "zero").GetInt64() == 0);
    REQUIRE(member(doc, "yes").IsBool());
    CHECK(member(doc, "yes").GetBool());
    CHECK_FALSE(member(doc, "no").GetBool());
    CHECK(member(doc, "tenth").GetDouble() == 0.1);  // shortest form reads back exactly
    CHECK(member(doc, "big").GetDouble() == 1e300);
    CHECK(member(doc, "tiny").GetDouble() == -2.5e-300);
    CHECK(member(doc, "flt").GetDouble() == 1.5);
    CHECK(str(member(doc, "nan")) == "NaN");
    CHECK(str(member(doc, "pinf")) == "+Inf");
    CHECK(str(member(doc, "ninf")) == "-Inf");
    CHECK(doc.MemberCount() == 4 + 17);
  }

  TEST_CASE("json_logger escapes hostile strings") {
    temp_file file;
    const wspulse::json_logger logger(file.get());

    // Valid text that must come back byte for byte.
    const std::string hostile_values[] = {
        R"(say "hi")",
        R"(back\slash \" \\ \n)",
        "new\nline\r\n",
        "tab\there",
        "\b\f\v\x01\x1f\x7f",
        std::string("nul\0inside", 10),
        "\"}, \"level\":\"error\"",
        "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",  // é ✓ 😀
        "</script><!--",
        "",
    };
    for (const std::string& v : hostile_values) {
      logger.log(log_level::info, v, {{v, v}, {"k", v}});
    }
    const auto lines = lines_of(file.contents());
    REQUIRE(lines.size() == std::size(hostile_values));
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string& v = hostile_values[i];
      INFO("value #", i);
      const auto doc = parse_line(lines[i]);
      CHECK(str(member(doc, "msg")) == v);
      CHECK(str(member(doc, "k")) == v);
      CHECK(str(member(doc, "level")) == "info");  // not overridden by the injected text
      bool found_key = false;
      for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
        if (str(m->name) == v) found_key = str(m->value) == v;
      }
      CHECK(found_key);
      bool no_raw_control = true;
      for (const char c : lines[i]) no_raw_control &= static_cast<unsigned char>(c) >= 0x20;
      CHECK(no_raw_control);
    }
    CHECK(lines[0].find(R"(say \"hi\")") != std::string::npos);
    CHECK(lines[4].find(R"(\b\f\u000b\u0001\u001f)") != std::string::npos);
  }

  TEST_CASE("json_logger replaces invalid UTF-8 so the line stays parseable") {
    temp_file file;
    const wspulse::json_logger logger(file.get());
    const std::string replacement = "\xef\xbf\xbd";
    const std::pair<std::string, std::string> cases[] = {
        {"a\xff"
         "b",
         "a" + replacement + "b"},
        {"\xfe\xfe", replacement + replacement},
        {"trunc\xe2\x82", "trunc" + replacement + replacement},
        {"\xe2\x82", replacement + replacement},
        {"overlong\xc0\xaf", "overlong" + replacement + replacement},
        {"surrogate\xed\xa0\x80", "surrogate" + replacement + replacement + replacement},
        {"toobig\xf4\x90\x80\x80",
         "toobig" + replacement + replacement + replacement + replacement},
        {"lone\x80", "lone" + replacement},
        {"ok\xf0\x9f\x98\x80", "ok\xf0\x9f\x98\x80"},
    };
    for (const auto& c : cases) logger.log(log_level::error, c.first, {{"v", c.first}});
    const auto lines = lines_of(file.contents());
    REQUIRE(lines.size() == std::size(cases));
    for (std::size_t i = 0; i < lines.size(); ++i) {
      INFO("case #", i);
      const auto doc = parse_line(lines[i]);  // validates the encoding
      CHECK(str(member(doc, "msg")) == cases[i].second);
      CHECK(str(member(doc, "v")) == cases[i].second);
    }
  }

  TEST_CASE("json_logger drops records below its minimum level") {
    SUBCASE("default is info") {
      temp_file file;
      const wspulse::json_logger logger(file.get());
      CHECK(logger.min_level() == log_level::info);
      logger.log(log_level::debug, "d", {});
      logger.log(log_level::info, "i", {});
      logger.log(log_level::warn, "w", {});
      logger.log(log_level::error, "e", {});
      const auto lines = lines_of(file.contents());
      REQUIRE(lines.size() == 3);
      CHECK(str(member(parse_line(lines[0]), "msg")) == "i");
      CHECK(str(member(parse_line(lines[2]), "level")) == "error");
      CHECK_FALSE(logger.enabled_for(log_level::debug));
      CHECK(logger.enabled_for(log_level::info));
      CHECK_FALSE(wspulse::should_log(logger, log_level::debug));
      CHECK(wspulse::should_log(logger, log_level::error));
    }
    SUBCASE("warn") {
      temp_file file;
      const wspulse::json_logger logger(file.get(), log_level::warn);
      for (const auto level :
           {log_level::debug, log_level::info, log_level::warn, log_level::error}) {
        logger.log(level, wspulse::to_string(level), {});
      }
      const auto lines = lines_of(file.contents());
      REQUIRE(lines.size() == 2);
      CHECK(str(member(parse_line(lines[0]), "level")) == "warn");
      CHECK(str(member(parse_line(lines[1]), "level")) == "error");
    }
    SUBCASE("debug") {
      temp_file file;
      const wspulse::json_logger logger(file.get(), log_level::debug);
      logger.log(log_level::debug, "d", {});
      CHECK(lines_of(file.contents()).size() == 1);
    }
    SUBCASE("level-only constructor keeps stderr") {
      const wspulse::json_logger logger(log_level::error);
      CHECK(logger.min_level() == log_level::error);
      CHECK_FALSE(logger.enabled_for(log_level::warn));
      CHECK(logger.enabled_for(log_level::error));
    }
    SUBCASE("a null FILE writes nothing") {
      const wspulse::json_logger logger(nullptr);
      CHECK_FALSE(logger.enabled_for(log_level::error));
      logger.log(log_level::error, "nowhere", {{"k", 1}});
    }
  }

  TEST_CASE("json_logger writes exactly one line per call") {
    temp_file file;
    const wspulse::json_logger logger(file.get());
    const std::string long_value(5000, 'x');  // past the inline buffer
    for (int i = 0; i < 50; ++i) {
      logger.log(log_level::info, "multi\nline\nmessage", {{"i", i}, {"long", long_value}});
    }
    logger.log(log_level::info, "no fields", {});
    const auto lines = lines_of(file.contents());
    REQUIRE(lines.size() == 51);
    for (int i = 0; i < 50; ++i) {
      const auto doc = parse_line(lines[static_cast<std::size_t>(i)]);
      CHECK(member(doc, "i").GetInt() == i);
      CHECK(str(member(doc, "long")) == long_value);
    }
    CHECK(parse_line(lines[50]).MemberCount() == 4);
  }

  TEST_CASE("json_logger lines from many threads never interleave") {
    temp_file file;
    const wspulse::json_logger logger(file.get());
    constexpr int threads = 8;
    constexpr int per_thread = 500;
    const std::string long_value(1500, 'L');  // some lines exceed the inline buffer

    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&logger, &long_value, t] {
        const wspulse::json_logger copy = logger;  // copies share the FILE
        for (int i = 0; i < per_thread; ++i) {
          const std::string_view payload =
              i % 7 == 0 ? std::string_view(long_value) : std::string_view("short");
          copy.log(log_level::info, "concurrent",
                   {{"thread", t}, {"i", i}, {"payload", payload}, {"quote", "\"\\\n"}});
        }
      });
    }
    for (auto& th : pool) th.join();

    const auto lines = lines_of(file.contents());
    REQUIRE(lines.size() == static_cast<std::size_t>(threads * per_thread));
    std::set<std::pair<int, int>> seen;
    bool all_parsed = true;
    for (const auto& line : lines) {
      rapidjson::Document doc;
      doc.Parse<parse_flags>(line.data(), line.size());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("thread") ||
          !doc.HasMember("i")) {
        all_parsed = false;
        continue;
      }
      seen.emplace(doc["thread"].GetInt(), doc["i"].GetInt());
    }
    CHECK(all_parsed);
    CHECK(seen.size() == static_cast<std::size_t>(threads * per_thread));
  }

  TEST_CASE("json_logger is a cheap value type") {
    static_assert(std::is_nothrow_copy_constructible_v<wspulse::json_logger>);
    static_assert(std::is_nothrow_move_constructible_v<wspulse::json_logger>);
    static_assert(std::is_nothrow_copy_assignable_v<wspulse::json_logger>);
    static_assert(std::is_nothrow_move_assignable_v<wspulse::json_logger>);
    static_assert(std::is_nothrow_default_constructible_v<wspulse::json_logger>);
    static_assert(wspulse::json_logger::enabled);

    temp_file file;
    wspulse::json_logger original(file.get(), log_level::warn);
    wspulse::json_logger moved = std::move(original);
    wspulse::json_logger assigned;
    assigned = moved;
    CHECK(assigned.min_level() == log_level::warn);
    assigned.log(log_level::warn, "via copy", {});
    CHECK(lines_of(file.contents()).size() == 1);
  }

  TEST_CASE("the client's call shape compiles for every provided logger") {
    temp_file file;
    log_like_the_client(wspulse::json_logger(file.get()), "ws://h/ws?token=***");
    const auto doc = parse_line(lines_of(file.contents()).at(0));
    CHECK(str(member(doc, "url")) == "ws://h/ws?token=***");
    CHECK(member(doc, "code").GetInt() == 1000);
    CHECK(member(doc, "reconnect").GetBool());

    std::ostringstream os;
    log_like_the_client(wspulse::ostream_logger(os), "ws://h/ws?token=***");
    CHECK(os.str().find("url=ws://h/ws?token=***") != std::string::npos);

    log_like_the_client(wspulse::null_logger{}, "ws://h/ws?token=***");
  }

  TEST_CASE("ostream_logger writes human-readable lines") {
    std::ostringstream os;
    const wspulse::ostream_logger logger(os);
    logger.log(log_level::info, "transport dropped",
               {{"url", "ws://h:8080/ws?token=***"}, {"code", 1000}, {"reconnect", true}});
    const std::string line = os.str();
    INFO(line);
    CHECK(is_utc_timestamp(std::string_view(line).substr(0, 24)));
    CHECK(line.substr(24) ==
          " INFO transport dropped url=ws://h:8080/ws?token=*** code=1000 reconnect=true\n");
  }

  TEST_CASE("ostream_logger quotes and escapes values") {
    std::ostringstream os;
    const wspulse::ostream_logger logger(os, log_level::debug);
    logger.log(log_level::debug, "line\nbreak",
               {{"space", "a b"},
                {"empty", ""},
                {"quote", R"(say "hi")"},
                {"eq", "k=v"},
                {"bs", R"(C:\dir)"},
                {"ctl", "x\x01y"},
                {"plain", "ws://h/p"},
                {"neg", -7},
                {"no", false},
                {"half", 0.5},
                {"nan", std::nan("")}});
    const std::string line = os.str();
    INFO(line);
    REQUIRE(line.size() > 25);
    CHECK(line.substr(25) ==
          R"(DEBUG line\nbreak space="a b" empty="" quote="say \"hi\"" eq=k=v bs="C:\\dir" )"
          R"(ctl="x\x01y" plain=ws://h/p neg=-7 no=false half=0.5 nan=NaN)"
          "\n");
  }

  TEST_CASE("ostream_logger levels and filtering") {
    std::ostringstream os;
    const wspulse::ostream_logger logger(os, log_level::warn);
    CHECK(logger.min_level() == log_level::warn);
    logger.log(log_level::debug, "d", {});
    logger.log(log_level::info, "i", {});
    logger.log(log_level::warn, "w", {});
    logger.log(log_level::error, "e", {});
    std::istringstream in(os.str());
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].substr(25) == "WARN w");
    CHECK(lines[1].substr(25) == "ERROR e");

    const wspulse::ostream_logger defaults;
    CHECK(defaults.min_level() == log_level::info);
    CHECK_FALSE(wspulse::should_log(defaults, log_level::debug));
  }

  TEST_CASE("ostream_logger lines from many threads never interleave") {
    std::ostringstream os;
    const wspulse::ostream_logger logger(os);
    constexpr int threads = 8;
    constexpr int per_thread = 200;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&logger, t] {
        const wspulse::ostream_logger copy = logger;
        for (int i = 0; i < per_thread; ++i) {
          copy.log(log_level::info, "concurrent", {{"thread", t}, {"i", i}});
        }
      });
    }
    for (auto& th : pool) th.join();

    std::istringstream in(os.str());
    std::set<std::pair<int, int>> seen;
    int bad = 0;
    for (std::string l; std::getline(in, l);) {
      int t = -1;
      int i = -1;
      char tail = 0;
      const bool ok =
          l.size() > 24 && is_utc_timestamp(std::string_view(l).substr(0, 24)) &&
          std::sscanf(l.c_str() + 24, " INFO concurrent thread=%d i=%d%c", &t, &i, &tail) == 2;
      if (!ok) {
        ++bad;
        continue;
      }
      seen.emplace(t, i);
    }
    CHECK(bad == 0);
    CHECK(seen.size() == static_cast<std::size_t>(threads * per_thread));
  }

  TEST_CASE("null_logger is empty, disabled and free to hold") {
    static_assert(std::is_empty_v<wspulse::null_logger>);
    static_assert(!wspulse::null_logger::enabled);
    static_assert(std::is_trivially_copyable_v<wspulse::null_logger>);

    struct holder : wspulse::null_logger {  // empty-base optimisation
      int value;
    };
    static_assert(sizeof(holder) == sizeof(int));
#if defined(__has_cpp_attribute) && __cplusplus > 201703L
#if __has_cpp_attribute(no_unique_address)
    struct member_holder {
      [[no_unique_address]] wspulse::null_logger logger;
      int value;
    };
    static_assert(sizeof(member_holder) == sizeof(int));
#endif
#endif

    const wspulse::null_logger logger;
    logger.log(log_level::error, "ignored", {{"k", 1}});
    CHECK_FALSE(wspulse::should_log(logger, log_level::error));
    CHECK_FALSE(logger.enabled_for(log_level::error));
  }

  TEST_CASE("redact_url keeps the shape and hides every query value") {
    struct example {
      const char* input;
      const char* expected;
    };
    const example examples[] = {
        {"ws://h:8080/ws?room=r1&token=xyz", "ws://h:8080/ws?room=***&token=***"},
        {"ws://host/ws", "ws://host/ws"},
        {"wss://host", "wss://host"},
        {"ws://host/", "ws://host/"},
        {"ws://h/ws?", "ws://h/ws?"},
        {"ws://h/ws?token=", "ws://h/ws?token=***"},
        {"ws://h/ws?a=&b=", "ws://h/ws?a=***&b=***"},
        {"ws://h/ws?t=SECRET1&t=SECRET2", "ws://h/ws?t=***&t=***"},
        {"ws://h/ws?flag&token=SECRET", "ws://h/ws?flag&token=***"},
        {"ws://h/ws?token=SEC=RET", "ws://h/ws?token=***"},
        {"ws://h/ws?a=1&&b=SECRET&", "ws://h/ws?a=***&&b=***&"},
        {"ws://h/ws?=SECRET", "ws://h/ws?=***"},
        {"ws://h/ws?token=SECRET%20x+y", "ws://h/ws?token=***"},
        {"ws://h/ws?redirect=http://x/?a=SECRET", "ws://h/ws?redirect=***"},
        {"ws://user:SECRETPW@h:1/ws", "ws://***@h:1/ws"},
        {"ws://SECRETUSER@h/ws?token=SECRET", "ws://***@h/ws?token=***"},
        {"wss://user:SECRET@PW@h/ws", "wss://***@h/ws"},
        {"ws://user:SECRET/PW@h/ws", "ws://***@h/ws"},  // hidden even though malformed
        {"ws://h/ws?email=a@SECRET.example", "ws://h/ws?email=***"},
        {"ws://[::1]:80/x?t=SECRET", "ws://[::1]:80/x?t=***"},
        {"ws://[fe80::1%25eth0]/x?t=SECRET&u", "ws://[fe80::1%25eth0]/x?t=***&u"},
        {"ws://h/ws?t=SECRET#FRAGSECRET", "ws://h/ws?t=***#***"},
        {"ws://h/ws#FRAGSECRET", "ws://h/ws#***"},
        {"ws://h/ws#", "ws://h/ws#"},
        {"ws://h/ws?#", "ws://h/ws?#"},
        {"ws://h/ws#a?t=SECRET", "ws://h/ws#***"},
        {"HTTPS://H/x?y=SECRET", "HTTPS://H/x?y=***"},
        {"", ""},
        {"?", "?"},
        {"&&", "&&"},
        {"?&&", "?&&"},
        {"?=SECRET", "?=***"},
        {"=x", "=x"},
        {"#", "#"},
        {"@", "***@"},
        {"://", "://"},
        {"ws://", "ws://"},
        {"ws://@", "ws://***@"},
        {"user:SECRET@host", "***@host"},
        {"1ws://u:SECRET@h?t=SECRET", "***@h?t=***"},  // not a scheme: still hidden
        {"no scheme/path?k=SECRET", "no scheme/path?k=***"},
        {"ws:/h?k=SECRET", "ws:/h?k=***"},
        {"ws://h/ws?k=SECRET\nnext", "ws://h/ws?k=***"},
    };
    for (const example& ex : examples) {
      INFO("input: ", ex.input);
      const std::string out = wspulse::redact_url(ex.input);
      CHECK(out == ex.expected);
      CHECK(out.find("SECRET") == std::string::npos);
      CHECK(out.find("xyz") == std::string::npos);
    }
  }

  TEST_CASE("redact_url never shows a secret, whatever the input") {
    // Every string built from URL-ish pieces around a secret value must hide it.
    const char* prefixes[] = {"", "ws://", "wss://h", "ws://h/p?", "?", "&", "ws://u:"};
    const char* before_secret[] = {"=", "k=", "?k=", "&k=", "?=", "u:", "#", "?a&b="};
    const char* after_secret[] = {"", "&", "@h", "#x", "&k=v", "?x", "=", "@h/p?t=v"};
    for (const char* p : prefixes) {
      for (const char* b : before_secret) {
        for (const char* a : after_secret) {
          const std::string in = std::string(p) + b + "SECRET" + a;
          const std::string out = wspulse::redact_url(in);
          if (!must_hide(in)) continue;
          INFO("input: ", in, "  output: ", out);
          CHECK(out.find("SECRET") == std::string::npos);
        }
      }
    }
  }

  TEST_CASE("redact_url handles every byte value without failing") {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    // '#' (0x23) comes before '&' (0x26): the rest is a fragment.
    const std::string out = wspulse::redact_url("ws://h/?k=" + all);
    CHECK(out == "ws://h/?k=***#***");
    CHECK_NOTHROW((void)wspulse::redact_url(all));
    CHECK_NOTHROW((void)wspulse::redact_url(std::string_view("\0?\0=\0", 5)));
  }

  TEST_CASE("redact_header hides the value") {
    CHECK(wspulse::redact_header("Authorization", "Bearer SECRET") == "Authorization: ***");
    CHECK(wspulse::redact_header("X-Token", "") == "X-Token: ***");
    CHECK(wspulse::redact_header("", "SECRET") == ": ***");
    const std::string value(300, 'S');
    CHECK(wspulse::redact_header("Cookie", value).find('S') == std::string::npos);
  }
}
