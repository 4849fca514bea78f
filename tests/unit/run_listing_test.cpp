// lib/store/run_listing.hpp: the listing query both backends run, and the glob PostgreSQL
// matches as a regex; util/time.hpp's durations (--older-than).
#include <doctest/doctest.h>

#include "store/run_listing.hpp"
#include "util/time.hpp"

namespace runctl {
namespace {

const SqlDialect kNumbered{[](int n) { return "$" + std::to_string(n); },
                           [](const std::string& p) { return "name ~ " + p; },
                           [](const std::string& p) { return "has(tags, " + p + ")"; }, true,
                           " NULLS FIRST"};

TEST_CASE("run listing: every filter is one bound condition, in one order") {
  RunFilter f;
  f.kind = RunKind::kTask;
  f.states = {StateType::kRunning, StateType::kPending, std::nullopt};
  f.name_glob = "etl-*";
  f.tag = "prod";
  f.flow_run_id = "f";
  f.state_before = 0;
  f.limit = 11;
  const ListQuery q = run_listing_query(f, kNumbered);
  CHECK(q.sql ==
        "SELECT id FROM task_run WHERE (state_type IN ($1, $2) OR state_type IS NULL) AND name ~ "
        "$3 AND has(tags, $4) AND flow_run_id = $5 AND state_timestamp < $6 ORDER BY "
        "state_timestamp NULLS FIRST, id LIMIT 11");
  CHECK(q.params == std::vector<std::string>{"PENDING", "RUNNING", "^etl-.*$", "prod", "f",
                                             "1970-01-01T00:00:00.000000+00:00"});
  CHECK(run_listing_query(RunFilter{}, kNumbered).sql ==
        "SELECT id FROM flow_run ORDER BY state_timestamp NULLS FIRST, id LIMIT 100");
  RunFilter none;
  none.states = {std::nullopt};
  CHECK(run_listing_query(none, kNumbered).sql ==
        "SELECT id FROM flow_run WHERE state_type IS NULL ORDER BY state_timestamp NULLS FIRST, "
        "id LIMIT 100");
}

TEST_CASE("run listing: a glob as a regex means what SQLite's GLOB means") {
  CHECK(glob_to_regex("nightly-*") == "^nightly-.*$");
  CHECK(glob_to_regex("a?c") == "^a.c$");
  CHECK(glob_to_regex("[a-m]*") == "^[a-m].*$");
  CHECK(glob_to_regex("[^a]x") == "^[^a]x$");
  CHECK(glob_to_regex("[^]]x") == "^[^]]x$");
  CHECK(glob_to_regex("[]]") == "^[]]$");
  CHECK(glob_to_regex("a.b+(c)|$^") == "^a\\.b\\+\\(c\\)\\|\\$\\^$");
  CHECK(glob_to_regex("[unclosed") == "^\\[unclosed$");
}

TEST_CASE("durations: units in a row, or bare seconds, anything else is refused") {
  CHECK(parse_duration("90s") == 90 * kMicrosPerSecond);
  CHECK(parse_duration("15m") == 900 * kMicrosPerSecond);
  CHECK(parse_duration("1h30m") == 5400 * kMicrosPerSecond);
  CHECK(parse_duration("2d") == 172800 * kMicrosPerSecond);
  CHECK(parse_duration("1w") == 604800 * kMicrosPerSecond);
  CHECK(parse_duration("3600") == 3600 * kMicrosPerSecond);
  CHECK(parse_duration("0.5") == kMicrosPerSecond / 2);
  CHECK(parse_duration("0") == 0);
  for (const char* bad : {"", "h", "1h30", "-5m", "1x", "1.2.3s", ".5s", "5.s", "1 h", "1e3"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
  CHECK_FALSE(parse_duration("999999999999w").has_value());
}

}  // namespace
}  // namespace runctl
