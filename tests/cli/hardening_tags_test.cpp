// Issue 14, item 8: --tags "x, db" means the tags x and db. Each item of a comma-separated list
// is trimmed, empty items are dropped and repeats kept once, so a tag cannot silently miss its
// concurrency limit over a space.
#include <doctest/doctest.h>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

TEST_CASE("hardening 8: tags are trimmed and kept once") {
  CliDb db;
  const std::string flow = db.create_flow({"--tags", " x, db,x , ,\tdb,"});
  CHECK(db.show(flow)["tags"] == Json::array({"x", "db"}));
  const std::string task = db.create_task({"--tags", "db ,  etl"});
  CHECK(db.show(task)["tags"] == Json::array({"db", "etl"}));
  const std::string paused = db.create_flow({"--pause-keys", "a, b ,a"});
  CHECK(db.show(paused)["empirical_policy"]["pause_keys"] == Json::array({"a", "b"}));
  const Json d = db.json({"deployment", "create", "--tags", "nightly , etl,nightly"}, 0);
  CHECK(d["tags"] == Json::array({"nightly", "etl"}));
}

TEST_CASE("hardening 8: a tag given with a space is governed by its concurrency limit") {
  CliDb db;
  REQUIRE(db.run({"concurrency-limit", "create", "--tag", "db", "--limit", "0"}).exit_code == 0);
  const std::string task =
      db.create_task({"--now", "2024-05-01T12:00:00Z", "--tags", "x, db", "--state", "PENDING"});
  const Json r = db.set_state(task, "RUNNING", {"--now", "2024-05-01T12:00:01Z"});
  // A limit of 0 aborts, as Prefect does; with the tag " db" the run would have been accepted.
  CHECK(r["status"] == "ABORT");
  CHECK(r["details"]["reason"].get<std::string>().find("db") != std::string::npos);
  CHECK(db.show(task)["state_type"] == "PENDING");
}

}  // namespace
}  // namespace runctl::clitest
