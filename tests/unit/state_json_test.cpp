// JSON forms of states, details and responses (lib/engine/state_json.cpp): every StateDetails
// field round-trips, wrong types are refused naming the field, unknown keys are ignored and an
// explicit null overwrites.
#include "engine/state_json.hpp"

#include <doctest/doctest.h>

#include "util/error.hpp"

namespace runctl {
namespace {

constexpr Timestamp kNoon = 1'767'268'800LL * kMicrosPerSecond;  // 2026-01-01T12:00:00Z

// Every field away from its default, so a field the round trip drops shows up.
StateDetails every_field_set() {
  StateDetails d;
  d.flow_run_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01";
  d.task_run_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c02";
  d.child_flow_run_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c03";
  d.scheduled_time = kNoon + 1;
  d.cache_key = "cache-key";
  d.cache_expiration = kNoon + 2;
  d.deferred = true;
  d.untrackable_result = true;
  d.pause_timeout = kNoon + 3;
  d.pause_reschedule = true;
  d.pause_key = "pause-key";
  d.run_input_keyset = Json{{"description", "desc-key"}, {"response", "resp-key"}};
  d.refresh_cache = true;
  d.retriable = false;
  d.transition_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c04";
  d.task_parameters_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c05";
  d.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  d.deployment_concurrency_lease_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c06";
  return d;
}

// The kBadData message that applying `object` raises, or a note saying what happened instead.
std::string apply_error(const Json& object) {
  StateDetails d;
  try {
    apply_state_details(object, d, "$.state_details");
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kBadData) return std::string("wrong error kind: ") + e.what();
    return e.what();
  }
  return "no error";
}

TEST_CASE("state details: every field round-trips through JSON") {
  const StateDetails original = every_field_set();
  const Json json = state_details_to_json(original);
  StateDetails parsed;
  apply_state_details(json, parsed, "$");
  CHECK(parsed == original);
  // And through text, as the store keeps it.
  StateDetails reparsed;
  apply_state_details(Json::parse(json.dump()), reparsed, "$");
  CHECK(reparsed == original);
}

TEST_CASE("state details: JSON has every Prefect field, in order, defaults as Prefect's") {
  const Json json = state_details_to_json(StateDetails{});
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{
                    "flow_run_id", "task_run_id", "child_flow_run_id", "scheduled_time",
                    "cache_key", "cache_expiration", "deferred", "untrackable_result",
                    "pause_timeout", "pause_reschedule", "pause_key", "run_input_keyset",
                    "refresh_cache", "retriable", "transition_id", "task_parameters_id",
                    "traceparent", "deployment_concurrency_lease_id"});
  CHECK(json["deferred"] == false);
  CHECK(json["untrackable_result"] == false);
  CHECK(json["pause_reschedule"] == false);
  CHECK(json["flow_run_id"].is_null());
  CHECK(json["scheduled_time"].is_null());
  CHECK(json["retriable"].is_null());
  CHECK(json["run_input_keyset"].is_null());
}

TEST_CASE("state details: values are written as Prefect writes them") {
  const Json json = state_details_to_json(every_field_set());
  CHECK(json["scheduled_time"] == "2026-01-01T12:00:00.000001+00:00");
  CHECK(json["cache_expiration"] == "2026-01-01T12:00:00.000002+00:00");
  CHECK(json["retriable"] == false);
  CHECK(json["refresh_cache"] == true);
  CHECK(json["run_input_keyset"] == Json{{"description", "desc-key"}, {"response", "resp-key"}});
  CHECK(json["flow_run_id"] == "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01");
}

TEST_CASE("state details: UUIDs are normalised to lower case, times to UTC") {
  StateDetails d;
  apply_state_details(Json{{"flow_run_id", "0B5C1B37-7E2A-4B8E-9D5E-3B3D2F1A0C01"},
                           {"scheduled_time", "2026-01-01T14:00:00+02:00"}},
                      d, "$");
  CHECK(d.flow_run_id == "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01");
  CHECK(d.scheduled_time == kNoon);
}

TEST_CASE("state details: unknown keys are ignored, absent keys left alone") {
  StateDetails d = every_field_set();
  apply_state_details(Json{{"not_a_field", 1}, {"cache_key", "other"}}, d, "$");
  StateDetails expected = every_field_set();
  expected.cache_key = "other";
  CHECK(d == expected);
  apply_state_details(Json::object(), d, "$");
  CHECK(d == expected);
}

TEST_CASE("state details: an explicit null overwrites") {
  StateDetails d = every_field_set();
  Json nulls = Json::object();
  for (const char* key : {"flow_run_id", "task_run_id", "child_flow_run_id", "scheduled_time",
                          "cache_key", "cache_expiration", "deferred", "pause_timeout", "pause_key",
                          "run_input_keyset", "refresh_cache", "retriable", "transition_id",
                          "task_parameters_id", "traceparent", "deployment_concurrency_lease_id"})
    nulls[key] = nullptr;
  apply_state_details(nulls, d, "$");
  StateDetails expected;               // every nullable field null...
  expected.deferred = std::nullopt;    // ...including deferred, whose default is false
  expected.untrackable_result = true;  // the two plain booleans were not sent
  expected.pause_reschedule = true;
  CHECK(d == expected);
}

TEST_CASE("state details: a lease id sent as null clears it (why the lease transform exists)") {
  StateDetails d;
  d.deployment_concurrency_lease_id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c06";
  apply_state_details(Json{{"deployment_concurrency_lease_id", nullptr}}, d, "$");
  CHECK_FALSE(d.deployment_concurrency_lease_id.has_value());
}

TEST_CASE("state details: wrong types are refused, naming the field") {
  // Values Prefect's model refuses too, even in pydantic's lax mode (which would coerce 0/1,
  // "yes"/"no" to booleans and numbers to datetimes).
  const std::string p = "$.state_details.";
  CHECK(apply_error(Json{{"flow_run_id", 5}}) == p + "flow_run_id: expected a UUID string");
  CHECK(apply_error(Json{{"task_run_id", "nope"}}) == p + "task_run_id: not a UUID: nope");
  CHECK(apply_error(Json{{"deployment_concurrency_lease_id", "0b5c1b37"}}) ==
        p + "deployment_concurrency_lease_id: not a UUID: 0b5c1b37");
  CHECK(apply_error(Json{{"scheduled_time", true}}) ==
        p + "scheduled_time: expected an ISO 8601 date-time string");
  CHECK(apply_error(Json{{"pause_timeout", "2026-02-30T00:00:00Z"}}) ==
        p + "pause_timeout: not an ISO 8601 date-time: 2026-02-30T00:00:00Z");
  CHECK(apply_error(Json{{"cache_key", 1}}) == p + "cache_key: expected a string");
  CHECK(apply_error(Json{{"traceparent", Json::array()}}) == p + "traceparent: expected a string");
  CHECK(apply_error(Json{{"deferred", "maybe"}}) == p + "deferred: expected true, false or null");
  CHECK(apply_error(Json{{"retriable", 2}}) == p + "retriable: expected true, false or null");
  CHECK(apply_error(Json{{"untrackable_result", nullptr}}) ==
        p + "untrackable_result: expected true or false");
  CHECK(apply_error(Json{{"pause_reschedule", "x"}}) ==
        p + "pause_reschedule: expected true or false");
  CHECK(apply_error(Json{{"run_input_keyset", Json::array()}}) ==
        p + "run_input_keyset: expected an object of strings");
  CHECK(apply_error(Json{{"run_input_keyset", {{"a", "x"}, {"b", 1}}}}) ==
        p + "run_input_keyset.b: expected a string");
  CHECK(apply_error(Json::array()) == "$.state_details: expected a JSON object");
}

TEST_CASE("state details: a bad field is refused even after valid ones") {
  StateDetails d;
  CHECK_THROWS_AS(apply_state_details(Json{{"cache_key", "k"}, {"retriable", "no"}}, d, "$"),
                  Error);
}

TEST_CASE("state_to_json: every field, null for no state") {
  State s;
  s.id = "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c07";
  s.type = StateType::kCompleted;
  s.name = "Cached";
  s.timestamp = kNoon;
  s.message = "hit";
  s.details->cache_key = "k";
  s.data = std::make_shared<Json>(Json{{"value", 3}});
  const Json json = state_to_json(s);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"id", "type", "name", "message", "timestamp",
                                         "state_details", "data"});
  CHECK(json["id"] == s.id);
  CHECK(json["type"] == "COMPLETED");
  CHECK(json["name"] == "Cached");
  CHECK(json["message"] == "hit");
  CHECK(json["timestamp"] == "2026-01-01T12:00:00.000000+00:00");
  CHECK(json["state_details"]["cache_key"] == "k");
  CHECK(json["data"] == Json{{"value", 3}});

  State bare;
  const Json bare_json = state_to_json(bare);
  CHECK(bare_json["message"].is_null());
  CHECK(bare_json["data"].is_null());
  CHECK(state_to_json(StatePtr()).is_null());
  CHECK(state_to_json(std::make_shared<State>(s)) == json);
}

TEST_CASE("OrchestrationResult details: the details kind picks the type tag") {
  CHECK(response_details_to_json(ResponseDetails::wait(20, "No!")) ==
        Json{{"type", "wait_details"}, {"reason", "No!"}, {"delay_seconds", 20}});
  CHECK(response_details_to_json(ResponseDetails::reject("I don't want to change!")) ==
        Json{{"type", "reject_details"},
             {"reason", "I don't want to change!"},
             {"delay_seconds", nullptr}});
  CHECK(response_details_to_json(ResponseDetails::abort("I don't need to change!")) ==
        Json{{"type", "abort_details"},
             {"reason", "I don't need to change!"},
             {"delay_seconds", nullptr}});
  CHECK(response_details_to_json(ResponseDetails::accept()) ==
        Json{{"type", "accept_details"}, {"reason", nullptr}, {"delay_seconds", nullptr}});
}

}  // namespace
}  // namespace runctl
