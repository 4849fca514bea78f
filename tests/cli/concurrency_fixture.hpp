// Helpers for the CLI tests of concurrency limits, deployments, leases and events: a scratch
// database driven with a fixed clock and seed, and readers of the limits, leases and events.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"

namespace runctl::clitest {

// 2026-01-01T12:00:00Z and times after it, as --now takes them.
inline std::string at(int minutes, int seconds = 0) {
  char buf[64];
  const int total = minutes * 60 + seconds;
  std::snprintf(buf, sizeof buf, "2026-01-01T%02d:%02d:%02dZ", 12 + total / 3600, total / 60 % 60,
                total % 60);
  return buf;
}

// A runctl --now NOW --seed 7 ... session over one scratch database.
class ConcDb {
 public:
  CliDb db;
  std::string now = at(0);

  std::vector<std::string> global(std::vector<std::string> args) const {
    return global_at(now, std::move(args));
  }
  std::vector<std::string> global_at(const std::string& when, std::vector<std::string> args) const {
    std::vector<std::string> full{"--now", when, "--seed", "7"};
    full.insert(full.end(), args.begin(), args.end());
    return full;
  }
  // The command with --json, parsed. An object gets "_exit_code" (its exit code); the list
  // commands print arrays, returned as they are.
  Json cmd(std::vector<std::string> args, int expected_exit = -1) const {
    return cmd_at(now, std::move(args), expected_exit);
  }
  Json cmd_at(const std::string& when, std::vector<std::string> args,
              int expected_exit = -1) const {
    args = global_at(when, std::move(args));
    args.push_back("--json");
    const ProcessResult r = db.run(args);
    INFO("runctl " << CliDb::join(args) << "\nstderr: " << r.err);
    if (expected_exit >= 0) CHECK(r.exit_code == expected_exit);
    Json out;
    try {
      out = Json::parse(r.out);
    } catch (const std::exception& e) {
      FAIL("stdout is not JSON: " << e.what() << "\nstdout: " << r.out.substr(0, 2000));
    }
    if (out.is_object()) out["_exit_code"] = r.exit_code;
    return out;
  }
  ProcessResult raw(std::vector<std::string> args) const { return db.run(global(std::move(args))); }

  std::string flow(std::vector<std::string> extra = {}) const { return create("flow", extra); }
  // Task runs are remembered: Prefect has no timestamp bump for task states
  // (EnsureFlowRunStateTimestampIsUnique is flow-only, and a repeated timestamp is a conflict), so
  // proposals for them get the fixed clock plus a microsecond per proposal, as states created one
  // after another would.
  std::string task(std::vector<std::string> extra = {}) const {
    std::string id = create("task", extra);
    task_runs_.push_back(id);
    return id;
  }
  std::string create(const std::string& kind, std::vector<std::string> extra) const {
    std::vector<std::string> args{kind + "-run", "create"};
    args.insert(args.end(), extra.begin(), extra.end());
    Json out = cmd(args, 0);
    REQUIRE(out.contains("id"));
    return out["id"].get<std::string>();
  }

  Json set(const std::string& id, const std::string& type,
           std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"set-state", id, type};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(task_runs_.begin(), task_runs_.end(), id) == task_runs_.end()) return cmd(args);
    return cmd_at(ticked(now), args);
  }
  // "...:SSZ" or "...:SS.ffffffZ" plus the next microsecond tick.
  std::string ticked(const std::string& t) const {
    const std::size_t dot = t.find('.');
    const std::string whole = t.substr(0, dot == std::string::npos ? t.size() - 1 : dot);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06d", ++ticks_);
    return whole + frac + "Z";
  }

  // A policy file whose "rules" are these entries (names or declarative rule objects); the run
  // kind's global transforms follow unless `transforms` is given.
  std::string policy(const Json& rules, const Json& transforms = Json()) {
    Json p{{"rules", rules}};
    if (!transforms.is_null()) p["transforms"] = transforms;
    return db.policy(p, "policy" + std::to_string(++policies_) + ".json");
  }

  // Creates a deployment; returns its id.
  std::string deployment(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"deployment", "create"};
    args.insert(args.end(), extra.begin(), extra.end());
    Json out = cmd(args, 0);
    REQUIRE(out.contains("id"));
    return out["id"].get<std::string>();
  }
  // The rows behind the commands, through the repository API.
  std::string deployment_limit_id(const std::string& deployment_id) const {
    const auto d = db.open(OpenMode::kRead)->concurrency().read_deployment(deployment_id);
    return d ? d->concurrency_limit_id.value_or("") : "";
  }
  std::optional<V2Limit> v2_limit(const std::string& id_or_name) const {
    const auto store = db.open(OpenMode::kRead);
    std::optional<V2Limit> l = store->concurrency().v2_limit_by_id(id_or_name);
    return l ? l : store->concurrency().v2_limit_by_name(id_or_name);
  }
  // V2 active_slots by limit id or name, as stored (-1: no such limit).
  long long v2_active(const std::string& id_or_name) const {
    const auto l = v2_limit(id_or_name);
    return l ? l->active_slots : -1;
  }
  // The task runs holding a V1 tag's slots (nullopt: no limit on the tag).
  std::optional<std::vector<std::string>> v1_holders(const std::string& tag) const {
    const auto l = db.open(OpenMode::kRead)->concurrency().v1_limit_by_tag(tag);
    if (!l) return std::nullopt;
    return l->active_slots;
  }
  // How many task runs hold a V1 tag slot (-1: no limit on the tag).
  long long v1_slots(const std::string& tag) const {
    const auto holders = v1_holders(tag);
    return holders ? static_cast<long long>(holders->size()) : -1;
  }
  bool v1_holds(const std::string& tag, const std::string& run_id) const {
    const auto holders = v1_holders(tag);
    return holders && std::count(holders->begin(), holders->end(), run_id) == 1;
  }
  long long leases() const {
    return static_cast<long long>(db.open(OpenMode::kRead)->concurrency().list_leases().size());
  }
  // Events written so far, by every run.
  long long events() const {
    return static_cast<long long>(
        db.open(OpenMode::kRead)->concurrency().list_events(std::nullopt).size());
  }

 private:
  int policies_ = 0;
  mutable std::vector<std::string> task_runs_;
  mutable int ticks_ = 0;
};

// A set-state result's status and validated state, for assertions (its reason: reason(), in
// cli_fixture.hpp).
inline std::string status(const Json& r) {
  return r.value("status", std::string("?"));
}
inline Json validated(const Json& r) {
  return r["validated_state"];
}
inline Json lease_id_of(const Json& state) {
  return state.is_null() ? Json() : state["state_details"]["deployment_concurrency_lease_id"];
}

// A declarative rule for policy files: FROM/TO everything, the given before actions.
inline Json test_rule(const std::string& name, const Json& before) {
  return Json{{"name", name}, {"from", "*"}, {"to", "*"}, {"before", before}};
}
// Prefect's tests' "Mutator": rejects into a fresh state of another type.
inline Json rejector(const std::string& type, const std::string& name = "Rejector") {
  return test_rule(
      name, Json::array({Json{{"reject", {{"state", {{"type", type}}}, {"reason", "mutated"}}}}}));
}
inline Json aborter(const std::string& name = "Aborter") {
  return test_rule(name, Json::array({Json{{"abort", {{"reason", "For testing purposes"}}}}}));
}

// Sets an environment variable for the commands run in one scope (they inherit the test's
// environment), then removes it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

}  // namespace runctl::clitest
