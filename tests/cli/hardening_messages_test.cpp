// Issue 14, item 10: messages that name the right thing and say what to do: ids by their noun, a
// missing database with how to create it, the closest built-in policy, rule or command name, an
// empty policy file as empty, a damaged database as corrupt, an apply line's JSON error by its
// column, and swapped set-state arguments by their order.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

struct Fixture {
  CliDb db;
  std::string flow;
  Fixture() { flow = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"}); }
};

TEST_CASE("hardening 10: ids are named by what they are") {
  Fixture f;
  const auto before = f.db.snapshot();
  check_rejected(f.db, before, f.db.run({"deployment", "show", "etl"}), 65,
                 "runctl: not a deployment id or name: \"etl\" (a deployment id, a prefix of at "
                 "least 4 hex characters, or a deployment name)");
  check_rejected(f.db, before, f.db.run({"lease", "release", "123"}), 65,
                 "runctl: not a lease id: \"123\" (a lease id or a prefix of at least 4 hex "
                 "characters)");
  check_rejected(f.db, before, f.db.run({"deployment", "create", "--id", "etl"}), 65,
                 "runctl: not a deployment id (a UUID): \"etl\"");
  check_rejected(f.db, before, f.db.run({"flow-run", "create", "--deployment-id", "etl"}), 65,
                 "runctl: not a deployment id or name: \"etl\" (a deployment id, a prefix of at "
                 "least 4 hex characters, or a deployment name)");
  check_rejected(f.db, before, f.db.run({"flow-run", "create", "--parent-task-run", "t1"}), 65,
                 "runctl: not a task run id or name: \"t1\" (a task run id, a prefix of at least 4 "
                 "hex characters, or a task run name)");
  check_rejected(f.db, before, f.db.run({"task-run", "create", "--flow-run", "f1"}), 65,
                 "runctl: not a flow run id or name: \"f1\" (a flow run id, a prefix of at least 4 "
                 "hex characters, or a flow run name)");
  check_rejected(f.db, before, f.db.run({"concurrency-limit", "release", "db", "t1"}), 65,
                 "runctl: not a task run id or name: \"t1\" (a task run id, a prefix of at least 4 "
                 "hex characters, or a task run name)");
  // A run id is still a run id; fewer than 4 hex characters are no prefix (docs/cli.md, "Naming
  // runs").
  check_rejected(f.db, before, f.db.run({"show", "123"}), 65,
                 "runctl: not a run id or name: \"123\" (a run id, a prefix of at least 4 hex "
                 "characters, or a run name)");
}

TEST_CASE("hardening 10: a missing database says how to create it" *
          RUNCTL_SQLITE_ONLY("a missing file; a PostgreSQL test schema always exists, and an "
                             "empty one is \"not a runctl database\"")) {
  CliDb db;
  const std::string id = "00000000-0000-4000-8000-000000000000";
  const std::string line = "runctl: database not found: " + db.path() + " (`runctl --db " +
                           db.path() + " init` creates it)";
  check_rejected(db.run({"show", id}), 66, line);
  check_rejected(db.run({"set-state", id, "RUNNING"}), 66, line);
  CHECK(reliability::dir_entries(db.dir()).empty());
}

TEST_CASE("hardening 10: a mistyped built-in policy name gets the closest one") {
  Fixture f;
  const auto before = f.db.snapshot();
  for (const std::string typed : {"CoreFlow", "coreflow", "core_flow", "CoreFlowPolicyy"}) {
    CAPTURE(typed);
    check_rejected(f.db, before,
                   f.db.run({"--now", "2024-05-01T12:00:01Z", "set-state", f.flow, "RUNNING",
                             "--policy", typed}),
                   66,
                   "runctl: policy file " + typed +
                       ": no such file (and no built-in policy of that name; did you mean "
                       "CoreFlowPolicy?)");
  }
  check_rejected(f.db, before, f.db.run({"policy", "show", "minimal_task"}), 66,
                 "runctl: policy file minimal_task: no such file (and no built-in policy of that "
                 "name; did you mean MinimalTaskPolicy?)");
  // Nothing close: no guess.
  check_rejected(f.db, before, f.db.run({"policy", "show", "no-such-policy.json"}), 66,
                 "runctl: policy file no-such-policy.json: no such file (and no built-in policy "
                 "of that name)");
}

TEST_CASE("hardening 10: an unknown rule or policy in a policy file gets the closest name") {
  Fixture f;
  const auto before = f.db.snapshot();
  const std::string rule = f.db.policy(Json{{"rules", Json::array({"RetryFailedFlow"})}});
  check_rejected(f.db, before, f.db.run({"policy", "show", rule}), 78,
                 "runctl: policy file " + rule +
                     ": $.rules[0]: unknown built-in rule or transform \"RetryFailedFlow\" (did "
                     "you mean RetryFailedFlows?)");
  const std::string splice = f.db.policy(Json{{"rules", Json::array({"@coreflow"})}}, "s.json");
  check_rejected(f.db, before, f.db.run({"policy", "show", splice}), 78,
                 "runctl: policy file " + splice +
                     ": $.rules[0]: unknown built-in policy \"coreflow\" (did you mean "
                     "\"@core-flow\"?)");
}

TEST_CASE("hardening 10: an empty policy file is called empty") {
  Fixture f;
  const auto before = f.db.snapshot();
  const std::string empty = f.db.dir() + "/empty.json";
  reliability::write_file(empty, "");
  check_rejected(f.db, before,
                 f.db.run({"--now", "2024-05-01T12:00:01Z", "set-state", f.flow, "RUNNING",
                           "--policy", empty}),
                 78,
                 "runctl: policy file " + empty +
                     ": $: the file is empty; a policy file is a JSON object such as {\"rules\": "
                     "[\"@core-flow\"]}");
  reliability::write_file(empty, " \n\t\n");
  check_rejected(f.db, before, f.db.run({"policy", "show", empty}), 78,
                 "runctl: policy file " + empty +
                     ": $: the file holds only white space; a policy file is a JSON object such "
                     "as {\"rules\": [\"@core-flow\"]}");
}

TEST_CASE("hardening 10: a damaged runctl database is corrupt, not someone else's file" *
          RUNCTL_SQLITE_ONLY("a truncated copy of the SQLite file")) {
  Fixture f;
  reliability::checkpoint(f.db.path());
  const std::string whole = *reliability::file_bytes(f.db.path());
  const std::string cut = f.db.dir() + "/cut.db";
  reliability::write_file(cut, whole.substr(0, whole.size() / 2));
  const ProcessResult r = run_process({runctl_binary(), "--db", cut, "show", f.flow});
  check_rejected(r, 65,
                 "runctl: database is corrupt: " + cut +
                     ": database disk image is malformed (restore it from a backup; sqlite3's "
                     ".recover command may save what is left)");
  CHECK(*reliability::file_bytes(cut) == whole.substr(0, whole.size() / 2));
  // A file that is no SQLite database at all is still "not a runctl database".
  const std::string other = f.db.dir() + "/other.db";
  reliability::write_file(other, std::string(8192, 'x'));
  const ProcessResult o = run_process({runctl_binary(), "--db", other, "show", f.flow});
  CHECK(o.exit_code == 65);
  CHECK(o.err.find("is not a runctl database") != std::string::npos);
}

TEST_CASE("hardening 10: an apply line's JSON error names its column, not the parser's line 1") {
  Fixture f;
  const auto before = apply_baseline(f.db);
  const ProcessResult r = f.db.run({"apply"}, "\n\n{\"run_id\": x}\n");
  CHECK(r.exit_code == 65);
  CHECK(r.err.empty());
  CHECK(r.out ==
        "line 3: error (exit 65): not valid JSON: parse error at column 12: syntax error while "
        "parsing value - invalid literal; last read: '\"run_id\": x'\n");
  CHECK(f.db.snapshot() == before);
}

TEST_CASE("hardening 10: set-state with its arguments swapped says the order") {
  Fixture f;
  const auto before = f.db.snapshot();
  check_rejected(f.db, before, f.db.run({"set-state", "running", f.flow}), 64,
                 "runctl: set-state takes the run id first, then the state type: runctl "
                 "set-state " +
                     f.flow + " running");
}

TEST_CASE("hardening 10: a mistyped command gets the closest one") {
  Fixture f;
  const auto before = f.db.snapshot();
  check_rejected(f.db, before, f.db.run({"sett-state", f.flow, "RUNNING"}), 64,
                 "runctl: usage: unknown command \"sett-state\"; did you mean set-state? (see "
                 "--help)");
  check_rejected(f.db, before, f.db.run({"flow-run", "creat"}), 64,
                 "runctl: usage: unknown flow-run command \"creat\"; did you mean create? (see "
                 "--help)");
  check_rejected(f.db, before, f.db.run({"--now", "2024-05-01T12:00:01Z", "histroy", f.flow}), 64,
                 "runctl: usage: unknown command \"histroy\"; did you mean history? (see --help)");
  check_rejected(f.db, before, f.db.run({"frobnicate"}), 64,
                 "runctl: usage: unknown command \"frobnicate\" (see --help)");
}

}  // namespace
}  // namespace runctl::clitest
