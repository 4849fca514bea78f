// Prefect's message truncation (prefect.utilities.text.truncated_to) and isoformat, as the
// events of InstrumentFlowRunStateTransitions use them.
#include <doctest/doctest.h>

#include "engine/concurrency.hpp"
#include "engine/concurrency_json.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace runctl {
namespace {

TEST_CASE("truncated_to: Prefect's cases at a limit of 11") {
  CHECK(truncated_to(11, std::nullopt) == "");
  CHECK(truncated_to(11, std::string()) == "");
  CHECK(truncated_to(11, std::string("a")) == "a");
  CHECK(truncated_to(11, std::string("heyyy")) == "heyyy");
  CHECK(truncated_to(11, std::string("12345678901")) == "12345678901");
  // Longer, but the "truncated" text would not be shorter.
  CHECK(truncated_to(11, std::string("123456789012")) == "123456789012");
  CHECK(truncated_to(11, std::string("12345xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxghijk")) ==
        "12345...39 additional characters...ghijk");
  CHECK(truncated_to(11, std::string("12345xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxghijk")) ==
        "12345...40 additional characters...ghijk");
}

TEST_CASE("truncated_to counts and cuts characters, not bytes") {
  std::string s;
  for (int i = 0; i < 60; ++i) s += "é";  // 2 bytes each
  const std::string out = truncated_to(10, s);
  CHECK(out == "ééééé...50 additional characters...ééééé");
  // Short in characters though long in bytes: kept.
  std::string twenty;
  for (int i = 0; i < 20; ++i) twenty += "€";
  CHECK(truncated_to(20, twenty) == twenty);
}

TEST_CASE("truncated_to applied twice cuts a once-cut message again") {
  const std::string m = std::string(500, 'a') + std::string(300, 'm') + std::string(500, 'z');
  const std::string once = truncated_to(1000, m);
  CHECK(once == std::string(500, 'a') + "...300 additional characters..." + std::string(500, 'z'));
  CHECK(truncated_to(1000, once) ==
        std::string(500, 'a') + "...31 additional characters..." + std::string(500, 'z'));
}

TEST_CASE("python_isoformat omits a zero fraction") {
  constexpr Timestamp t0 = 1'767'268'800LL * kMicrosPerSecond;
  CHECK(python_isoformat(t0) == "2026-01-01T12:00:00+00:00");
  CHECK(python_isoformat(t0 + 1) == "2026-01-01T12:00:00.000001+00:00");
  CHECK(python_isoformat(t0 + 250'000) == "2026-01-01T12:00:00.250000+00:00");
}

TEST_CASE("JSON forms") {
  Lease l;
  l.id = "l";
  l.resource_ids = {"a"};
  l.created_at = 0;
  l.expiration = 10;
  l.slots = 1;
  CHECK(lease_to_json(l, 11)["expired"] == true);
  CHECK(lease_to_json(l, 10)["expired"] == false);
  CHECK(lease_to_json(l, 0)["metadata"] == Json{{"slots", 1}, {"holder", nullptr}});
  CHECK(concurrency_options_to_json(std::nullopt).is_null());
  CHECK(concurrency_options_to_json(ConcurrencyOptions{}) ==
        Json{{"collision_strategy", "ENQUEUE"}, {"grace_period_seconds", nullptr}});
}

}  // namespace
}  // namespace runctl
