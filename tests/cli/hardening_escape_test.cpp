// Issue 14, item 9: text output shows control characters from stored text escaped, so a message
// with a newline cannot split a history line and an ANSI escape cannot reach the terminal. JSON
// output keeps the text exact.
#include <doctest/doctest.h>

#include <algorithm>

#include "hardening_support.hpp"

namespace runctl::clitest {
namespace {

const std::string kNasty =
    "two\nlines\r\t\x1b[31mred\x7f \xc2\x9b"
    "2J";
const std::string kShown = "two\\nlines\\r\\t\\x1b[31mred\\x7f \\u009b2J";

bool has_control(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') continue;  // the line ends output itself writes
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f)
      return true;
  }
  return false;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_CASE("hardening 9: history, show, log and set-state escape stored control characters") {
  CliDb db;
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--name", kNasty,
                                         "--state", "PENDING", "--state-name", kNasty});
  const ProcessResult set = db.run({"--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING",
                                    "--message", kNasty, "--name", kNasty});
  REQUIRE(set.exit_code == 0);
  CHECK_FALSE(has_control(set.out));
  CHECK(set.out.find("state:        RUNNING '" + kShown + "' \"" + kShown + "\"") !=
        std::string::npos);

  const ProcessResult history = db.run({"history", id});
  REQUIRE(history.exit_code == 0);
  CHECK_FALSE(has_control(history.out));
  CHECK(lines(history.out) == 2);  // one line per state
  CHECK(history.out.find("RUNNING     " + kShown + "  \"" + kShown + "\"  ") != std::string::npos);

  const ProcessResult show = db.run({"show", id});
  REQUIRE(show.exit_code == 0);
  CHECK_FALSE(has_control(show.out));
  CHECK(show.out.find("name:                      " + kShown + "\n") != std::string::npos);

  const ProcessResult log = db.run({"log", id});
  REQUIRE(log.exit_code == 0);
  CHECK_FALSE(has_control(log.out));
  CHECK(lines(log.out) == 4);  // two lines per attempt

  // JSON is exact.
  const Json j = db.show(id);
  CHECK(j["name"] == kNasty);
  CHECK(j["state"]["message"] == kNasty);
}

TEST_CASE("hardening 9: reasons, policy names and tags in text output are escaped too") {
  CliDb db;
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"});
  const std::string file = db.policy(Json{
      {"rules",
       Json::array({Json{
           {"name", "Veto\x1b]0;pwned\x07"},
           {"from", "*"},
           {"to", "*"},
           {"before", Json::array({Json{
                          {"reject", {{"state", nullptr}, {"reason", "no\nway \x1b[2J"}}}}})}}})}});
  const ProcessResult set =
      db.run({"--now", "2024-05-01T12:00:01Z", "set-state", id, "RUNNING", "--policy", file, "-v"});
  CHECK(set.exit_code == 1);
  CHECK_FALSE(has_control(set.out));
  CHECK_FALSE(has_control(set.err));  // the -v trace names the rule
  CHECK(set.out.find("reason:       no\\nway \\x1b[2J\n") != std::string::npos);
  const ProcessResult show = db.run({"policy", "show", file});
  CHECK_FALSE(has_control(show.out));
  const ProcessResult log = db.run({"log", id});
  CHECK_FALSE(has_control(log.out));
  CHECK(lines(log.out) == 4);

  REQUIRE(db.run({"concurrency-limit", "create", "--tag", "t\x1b[1m", "--limit", "1"}).exit_code ==
          0);
  const ProcessResult limits = db.run({"concurrency-limit", "list"});
  CHECK_FALSE(has_control(limits.out));
  CHECK(limits.out.find("t\\x1b[1m") != std::string::npos);
}

TEST_CASE("hardening 9: an error line quoting its input escapes it as well") {
  CliDb db;
  const std::string id = db.create_flow();
  const auto before = db.snapshot();
  check_rejected(db, before, db.run({"set-state", id, "\x1b[31mRUNNING"}), 65,
                 "runctl: unknown state type \"\\x1b[31mRUNNING\" (expected SCHEDULED, PENDING, "
                 "RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED or CANCELLING)");
}

}  // namespace
}  // namespace runctl::clitest
