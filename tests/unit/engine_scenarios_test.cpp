// The reference scenarios whose proposed state is null, run against the engine directly: a CLI
// always proposes a state, so these are the only way to check the chain runner's behaviour on a
// null proposal (validation keeping the current state, helpers' guards when nothing validated).
// The scenarios with a proposal go through the binary in tests/scenarios/scenario_runner.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/chain.hpp"
#include "engine/context.hpp"
#include "engine/response.hpp"
#include "engine/run.hpp"
#include "engine/state.hpp"
#include "engine/state_type.hpp"
#include "policy/policy.hpp"
#include "scenarios/scenario_format.hpp"
#include "util/time.hpp"
#include "util/uuid.hpp"

namespace runctl {
namespace {

using nlohmann::json;
using scenarios::Scenario;

constexpr std::size_t kNullProposalScenarioCount = 22;

// 2026-01-01T12:00:00Z: any fixed instant will do, no scenario depends on the time.
constexpr Timestamp kNow = 1'767'268'800LL * kMicrosPerSecond;

std::vector<const Scenario*> null_proposal_scenarios() {
  std::vector<const Scenario*> out;
  for (const Scenario& s : scenarios::corpus(RUNCTL_SCENARIO_DIR))
    if (!s.has_proposal()) out.push_back(&s);
  return out;
}

// The engine's JSON is ordered_json; the expectations are plain json, whose objects compare
// regardless of key order (parameters are a dict in Prefect).
json to_plain(const Json& j) {
  return json::parse(j.dump());
}

StateProposal proposal_from(const json& state) {
  StateProposal p;
  const auto type = parse_state_type(state.at("type").get<std::string>());
  REQUIRE_MESSAGE(type.has_value(), "bad state type in scenario: ", state.dump());
  p.type = *type;
  if (state.contains("name") && !state["name"].is_null()) p.name = state["name"].get<std::string>();
  if (state.contains("message") && !state["message"].is_null())
    p.message = state["message"].get<std::string>();
  return p;
}

json state_view(const StatePtr& s) {
  if (!s) return nullptr;
  return json{{"type", std::string(type_name(s->type))},
              {"name", s->name},
              {"message", s->message ? json(*s->message) : json()}};
}

void run_scenario(const Scenario& s) {
  FixedClock clock(kNow);
  RandomUuidGenerator uuids(42);

  Run run;
  run.kind = s.spec.at("run_kind") == "task" ? RunKind::kTask : RunKind::kFlow;
  run.id = uuids.next();

  StatePtr initial;
  const json& initial_spec = s.spec.at("initial_state");
  if (!initial_spec.is_null()) {
    initial = make_state(proposal_from(initial_spec), uuids.next(), kNow);
    run.state_id = initial->id;
    run.state_type = initial->type;
    run.state_name = initial->name;
    run.state_timestamp = initial->timestamp;
  }

  // The policy goes through the same parser as a policy file, so its action vocabulary is the
  // one the CLI scenarios exercise.
  const Policy policy = parse_policy(s.spec.at("policy").dump(), s.name);
  // Every scenario policy lists its transforms, possibly none: the run kind's global transforms
  // must not be added.
  REQUIRE(policy.transforms.has_value());

  Context ctx;
  ctx.kind = run.kind;
  ctx.run = &run;
  ctx.initial_state = initial;
  ctx.proposed_state = nullptr;
  ctx.clock = &clock;
  ctx.uuids = &uuids;
  ctx.services = nullptr;  // nothing is written on a null proposal

  const ChainOutcome outcome = orchestrate(policy.rules, *policy.transforms, ctx);
  const bool error = outcome.error.has_value();

  // What the store would hold afterwards: a hook error rolls everything back to the initial
  // state; otherwise the state the run's state_id now names (validating a null proposal keeps
  // the current one, so that is the initial state or its validated copy).
  StatePtr after = initial;
  if (!error) {
    if (!run.state_id) {
      after = nullptr;
    } else if (ctx.validated_state && *run.state_id == ctx.validated_state->id) {
      after = ctx.validated_state;
    } else {
      CHECK_MESSAGE((initial && *run.state_id == initial->id),
                    "run.state_id names a state that neither initial nor validated is");
    }
  }

  json actual = json::object();
  const std::string status(status_name(ctx.response_status));
  actual["exit_code"] = scenarios::exit_code_for(status, error);
  actual["status"] = status;
  actual["details"] = json{
      {"type", std::string(details_type_name(ctx.response_details.kind))},
      {"reason", ctx.response_details.reason ? json(*ctx.response_details.reason) : json()},
      {"delay_seconds",
       ctx.response_details.delay_seconds ? json(*ctx.response_details.delay_seconds) : json()}};
  // Nothing is written when a hook raised, so the contract reports no validated state.
  actual["validated_state"] = error ? json() : state_view(ctx.validated_state);
  actual["run_state_after"] = scenarios::project_run_state(state_view(after));
  actual["rule_signature"] = ctx.rule_signature;
  actual["finalization_signature"] = ctx.finalization_signature;
  actual["parameters"] = to_plain(ctx.parameters);
  actual["side_effects"] = ctx.side_effects;
  actual["error"] = error ? json(*outcome.error) : json();

  const std::vector<std::string> diffs = scenarios::differences(s.expected, actual);
  CHECK_MESSAGE(diffs.empty(), "scenario ", s.name, " differs:\n", scenarios::join_lines(diffs));
}

}  // namespace

TEST_CASE("scenario corpus: null proposals through the engine") {
  const std::vector<const Scenario*> selected = null_proposal_scenarios();
  // Guards against an empty or partial corpus making the test pass vacuously.
  REQUIRE(selected.size() == kNullProposalScenarioCount);
  // One SUBCASE per scenario: failures name it, and `-sc=NAME` runs a single one.
  for (const Scenario* s : selected) {
    SUBCASE(s->name.c_str()) {
      INFO("scenario: ", s->name);
      run_scenario(*s);
    }
  }
}

}  // namespace runctl
