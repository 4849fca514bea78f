// The chain runner (lib/engine/chain.cpp), validation of the proposed state: what is written, and
// how a store error is reported. A case named in words after a test of Prefect's
// tests/server/orchestration/test_rules.py pins what that test pins.
#include "engine/chain.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace runctl::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Validation

TEST_CASE("contexts validate proposed states") {
  for (MaybeType initial : all_maybe_types()) {
    for (MaybeType proposed : all_maybe_types()) {
      CAPTURE(name_of(initial));
      CAPTURE(name_of(proposed));
      Harness h(initial, proposed);
      const std::optional<std::string> state_id_before = h.run.state_id;
      h.run_chain({});
      CHECK(name_of(h.ctx.validated_state) == name_of(proposed ? proposed : initial));
      CHECK(name_of(h.ctx.response_status) == "ACCEPT");
      if (proposed) {
        CHECK(h.ctx.validated_state->id == h.ctx.proposed_state->id);
        CHECK(h.run.state_id == h.ctx.proposed_state->id);
        CHECK(h.services.written_ids == Strings{h.ctx.proposed_state->id});
      } else {
        CHECK(h.run.state_id == state_id_before);
        CHECK(h.services.written_ids.empty());
      }
    }
  }
}

TEST_CASE("context validation sets run state: the run's state pointer") {
  Harness h(kPending, kRunning);
  REQUIRE(h.run.state_id != h.ctx.proposed_state->id);
  h.run_chain({});
  CHECK(h.run.state_id == h.ctx.proposed_state->id);
  CHECK(h.ctx.validated_state->id == h.ctx.proposed_state->id);
  CHECK(h.ctx.validated_state->timestamp == h.ctx.proposed_state->timestamp);
}

TEST_CASE("validation with a null proposal: validated is a copy of the current state") {
  Harness h(kPending, std::nullopt);
  h.ctx.initial_state->details->cache_key = "k";
  h.run_chain({});
  REQUIRE(h.ctx.validated_state != nullptr);
  CHECK(h.ctx.validated_state != h.ctx.initial_state);  // a copy, not the same object
  CHECK(h.ctx.validated_state->id == h.ctx.initial_state->id);
  CHECK(h.ctx.validated_state->name == "Pending");
  CHECK(h.ctx.validated_state->details->cache_key == "k");
  CHECK(h.run.state_id == h.ctx.initial_state->id);
}

TEST_CASE("validation with a null proposal and no run state: validated is null") {
  Harness h(std::nullopt, std::nullopt);
  auto rule = make_rule("R");
  h.run_chain({entry(rule)});
  CHECK(h.ctx.validated_state == nullptr);
  CHECK_FALSE(h.run.state_id.has_value());
  CHECK(rule->after == 1);
}

TEST_CASE("validated state is independent of the proposal object") {
  Harness h(kPending, kRunning);
  h.run_chain({});
  h.ctx.proposed_state->details->cache_key = "later";
  CHECK_FALSE(h.ctx.validated_state->details->cache_key.has_value());
}

TEST_CASE("context validation writes result artifact: validated data equals the proposal's") {
  Harness h(kPending, kRunning);
  h.ctx.proposed_state->data = std::make_shared<Json>(Json{{"value", "some special data"}});
  Json written;
  h.services.on_write = [&](const Run& run, State& s) {
    CHECK(run.id == h.run.id);
    written = s.data ? *s.data : Json();
  };
  h.run_chain({});
  CHECK(written == Json{{"value", "some special data"}});
  REQUIRE(h.ctx.validated_state->data != nullptr);
  CHECK(*h.ctx.validated_state->data == Json{{"value", "some special data"}});
}

TEST_CASE("context validation does not write artifact when no result") {
  Harness h(kPending, kRunning);
  h.run_chain({});
  CHECK(h.ctx.validated_state->data == nullptr);
}

TEST_CASE(
    "context validation writes result artifact with metadata: "
    "the artifact keys are stripped") {
  Harness h(kPending, kRunning);
  h.ctx.proposed_state->data = std::make_shared<Json>(
      Json{{"value", "some special data"}, {"artifact_type", "a special type"}});
  h.services.on_write = [](const Run&, State& s) { s.data->erase("artifact_type"); };
  h.run_chain({});
  REQUIRE(h.ctx.validated_state->data != nullptr);
  CHECK(*h.ctx.validated_state->data == Json{{"value", "some special data"}});
}

TEST_CASE("validation without services still validates") {
  Harness h(kPending, kRunning);
  h.ctx.services = nullptr;
  h.run_chain({});
  CHECK(name_of(h.ctx.validated_state) == "RUNNING");
  CHECK(h.run.state_id == h.ctx.proposed_state->id);
}

TEST_CASE("context state validation encounters exception: ABORT 'Error validating state'") {
  Harness h(kPending, kRunning);
  h.services.on_write = [](const Run&, State&) { throw std::runtime_error("One time error!"); };
  auto rule = make_rule("Minimal");
  auto t = make_transform("T");
  const std::string initial_id = *h.run.state_id;
  const auto out = h.run_chain({entry(rule)}, {entry(t)});
  CHECK(rule->before == 1);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);  // the proposal was nulled: the rule fizzled
  CHECK(name_of(h.ctx.response_status) == "ABORT");
  CHECK(h.ctx.response_details ==
        ResponseDetails::abort(std::string("Error validating state: One time error!")));
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(h.run.state_id == initial_id);
  // Not an orchestration error: transforms still run after, nothing is re-raised.
  CHECK_FALSE(h.ctx.orchestration_error.has_value());
  CHECK(t->after == 1);
  CHECK_FALSE(out.escaped);
  CHECK_FALSE(out.error.has_value());
}

TEST_CASE("context state validation encounters sqlite busy exception: a retryable error escapes") {
  Harness h(kPending, kRunning);
  h.services.on_write = [](const Run&, State&) { throw RetryableError("database is locked"); };
  auto rule = make_rule("Minimal");
  const auto out = h.run_chain({entry(rule)});
  REQUIRE(out.escaped);
  CHECK_THROWS_AS(std::rethrow_exception(out.escaped), RetryableError);
  CHECK(out.error == "database is locked");
  CHECK(rule->before == 1);
  CHECK(rule->after == 0);
  CHECK(rule->cleanup_calls == 1);
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(h.ctx.validated_state == nullptr);
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");
}

TEST_CASE("a store constraint error (runctl::Error) escapes, as Prefect re-raises IntegrityError") {
  // What the store raises for a duplicate (run, timestamp) state row: Prefect's HTTP 409.
  Harness h(kPending, kRunning);
  h.services.on_write = [](const Run&, State&) {
    throw Error(ErrorKind::kBadData, "run already has a state at that timestamp");
  };
  auto rule = make_rule("R");
  const auto out = h.run_chain({entry(rule)});
  REQUIRE(out.escaped);
  CHECK(out.error == "run already has a state at that timestamp");
  CHECK(h.ctx.proposed_state == nullptr);
  CHECK(name_of(h.ctx.response_status) == "ACCEPT");  // not turned into an ABORT
  CHECK(rule->cleanup_calls == 1);
}

}  // namespace
}  // namespace runctl::testing
