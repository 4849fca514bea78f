// What the policy_*_test.cpp files share: runs created and states proposed at a chosen clock,
// policy files holding only some rules, and readers of a set-state result.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "cli_fixture.hpp"

namespace runctl::clitest {

// Every state type, in Prefect's StateType order.
inline const std::vector<std::string> kStateTypes = {"SCHEDULED", "PENDING", "RUNNING",
                                                     "COMPLETED", "FAILED",  "CANCELLED",
                                                     "CRASHED",   "PAUSED",  "CANCELLING"};

// `kind`-run create with the clock at `now`; returns the run's id. Each state of a run needs its
// own timestamp, so tests create at one clock and propose at later ones. A --deployment-id must
// name a deployment that exists, so one without a limit is created first when it is missing.
inline std::string create_run_at(const CliDb& db, const std::string& now, const std::string& kind,
                                 std::vector<std::string> extra = {}) {
  for (std::size_t i = 0; i + 1 < extra.size(); ++i)
    if (extra[i] == "--deployment-id" && db.run({"deployment", "show", extra[i + 1]}).exit_code)
      REQUIRE(db.run({"--now", now, "deployment", "create", "--id", extra[i + 1]}).exit_code == 0);
  std::vector<std::string> args{"--now", now, kind + "-run", "create"};
  args.insert(args.end(), extra.begin(), extra.end());
  return db.json(args, 0).value("id", std::string());
}

// set-state ID TYPE EXTRA... with the clock at `now`; the result carries "_exit_code".
inline Json set_state_at(const CliDb& db, const std::string& now, const std::string& id,
                         const std::string& type, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--now", now, "set-state", id, type};
  args.insert(args.end(), extra.begin(), extra.end());
  return db.json(args);
}

// A policy file with exactly these rules (one name or a list) and no transforms: Prefect's unit
// tests enter the rules alone.
inline std::string only(const CliDb& db, const Json& rules) {
  return db.policy(Json{{"rules", rules.is_string() ? Json::array({rules}) : rules},
                        {"transforms", Json::array()}});
}

// Presets the counters only many transitions would reach, through the repository API: a run's
// run_count, and a task run's copy of its flow run's run_count.
inline void set_run_count(const CliDb& db, const std::string& id, int n) {
  db.update_run(id, [n](Run& run) { run.run_count = n; });
}
inline void set_flow_run_run_count(const CliDb& db, const std::string& task_id, int n) {
  db.update_run(task_id, [n](Run& run) { run.flow_run_run_count = n; });
}

inline std::string state_type(const Json& state) {
  return state.is_object() ? state.value("type", std::string("?")) : "<null>";
}

// Whether a signature list names `name`.
inline bool signed_by(const Json& list, const std::string& name) {
  for (const Json& n : list)
    if (n == name) return true;
  return false;
}

}  // namespace runctl::clitest
