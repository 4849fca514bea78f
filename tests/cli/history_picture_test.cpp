// history --format mermaid|dot|svg|json|text (docs/cli.md, "history"; docs/pictures.md): the
// states in time order with the attempts that were not accepted hung where they happened, user
// text kept inside its label, --format json the same bytes as --json, and Graphviz's absence
// said in one line.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_fixture.hpp"
#include "cli/graphviz.hpp"

namespace runctl::clitest {
namespace {

using Strings = std::vector<std::string>;

constexpr const char* kT0 = "2026-01-01T12:00:00Z";
constexpr const char* kT1 = "2026-01-01T12:01:00Z";
constexpr const char* kT2 = "2026-01-01T12:02:00Z";
constexpr const char* kT3 = "2026-01-01T12:03:00Z";
constexpr const char* kT4 = "2026-01-01T12:04:00Z";
constexpr const char* kT5 = "2026-01-01T12:05:00Z";
constexpr const char* kT6 = "2026-01-01T12:06:00Z";

// SCHEDULED for 12:05; RUNNING too early (WAIT); PENDING; PENDING again (ABORT); PAUSED
// without a pause key (REJECT); RUNNING; COMPLETED.
std::string eventful_run(const CliDb& db) {
  const std::string id =
      db.create_flow({"--now", kT0, "--state", "SCHEDULED", "--scheduled-time", kT5});
  REQUIRE(db.set_state(id, "RUNNING", {"--now", kT1})["status"] == "WAIT");
  REQUIRE(db.set_state(id, "PENDING", {"--now", kT2})["status"] == "ACCEPT");
  REQUIRE(db.set_state(id, "PENDING", {"--now", kT3})["status"] == "ABORT");
  REQUIRE(db.set_state(id, "PAUSED", {"--now", kT4})["status"] == "REJECT");
  REQUIRE(db.set_state(id, "RUNNING", {"--now", kT5})["status"] == "ACCEPT");
  REQUIRE(db.set_state(id, "COMPLETED", {"--now", kT6})["status"] == "ACCEPT");
  return id;
}

ProcessResult history(const CliDb& db, const std::string& id, Strings extra) {
  Strings args{"history", id};
  args.insert(args.end(), extra.begin(), extra.end());
  return db.run(args);
}

std::size_t find_after(const std::string& text, const std::string& what, std::size_t from) {
  const std::size_t at = text.find(what, from);
  INFO("looking for " << what << " after " << from << " in\n" << text);
  REQUIRE(at != std::string::npos);
  return at;
}

// Every line of a Mermaid text has balanced double quotes: a label cannot spill into the next.
void check_quotes_balanced(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::size_t quotes = 0;
    for (char c : line) quotes += c == '"';
    CAPTURE(line);
    CHECK(quotes % 2 == 0);
  }
}

TEST_CASE("history picture: mermaid names every state in order and every attempt not accepted") {
  CliDb db;
  const std::string id = eventful_run(db);
  const ProcessResult r = history(db, id, {"--format", "mermaid"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("flowchart LR\n", 0) == 0);
  std::size_t at = 0;
  for (const char* state : {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED"})
    at = find_after(r.out, "[\"" + std::string(state) + "<br/>", at);
  CHECK(r.out.find("s0 --> s1\n") != std::string::npos);
  CHECK(r.out.find("s2 --> s3\n") != std::string::npos);
  CHECK(r.out.find("s4[") == std::string::npos);
  // Each attempt hangs on the state the run was in when it was made.
  at = find_after(r.out, "a0{{\"WAIT RUNNING<br/>", 0);
  find_after(r.out, "s0 -.-> a0\n", at);
  at = find_after(r.out, "a1{{\"ABORT PENDING<br/>", 0);
  find_after(r.out, "s1 -.-> a1\n", at);
  at = find_after(r.out, "a2{{\"REJECT PAUSED<br/>by HandlePausingFlows<br/>", 0);
  find_after(r.out, "s1 -.-> a2\n", at);
  CHECK(r.out.find("a3{{") == std::string::npos);
  check_quotes_balanced(r.out);
  // The same database, the same bytes.
  CHECK(history(db, id, {"--format", "mermaid"}).out == r.out);
}

TEST_CASE("history picture: quotes, brackets and newlines stay inside their label") {
  CliDb db;
  const std::string id = db.create_flow({"--now", kT0, "--state", "PENDING"});
  const std::string name = "say \"hi\"]\n} end <b>`x`; %% #1";
  REQUIRE(db.set_state(id, "RUNNING", {"--now", kT1, "--state-name", name})["_exit_code"] == 0);
  const ProcessResult m = history(db, id, {"--format", "mermaid"});
  REQUIRE_MESSAGE(m.exit_code == 0, m.err);
  CHECK(m.out.find(name) == std::string::npos);
  CHECK(m.out.find("say #quot;hi#quot;]\\n} end #lt;b#gt;#96;x#96;#59; %% #35;1<br/>") !=
        std::string::npos);
  check_quotes_balanced(m.out);
  // Two states, one edge: nothing of the name became a statement of its own.
  std::size_t lines = 0;
  for (char c : m.out) lines += c == '\n';
  CHECK(lines == 5);

  const ProcessResult d = history(db, id, {"--format", "dot"});
  REQUIRE_MESSAGE(d.exit_code == 0, d.err);
  CHECK(d.out.rfind("digraph history {\n", 0) == 0);
  CHECK(d.out.find("say \\\"hi\\\"]\\n} end <b>`x`; %% #1\\n") != std::string::npos);
  check_accepted_by_graphviz(d.out);
  check_accepted_by_graphviz(history(db, eventful_run(db), {"--format", "dot"}).out);
}

TEST_CASE("history picture: --format json is --json, --format text the default") {
  CliDb db;
  const std::string id = eventful_run(db);
  for (const Strings& window : {Strings{}, Strings{"--limit", "2"}, Strings{"--since", kT5}}) {
    Strings json = window, format = window, text = window;
    json.push_back("--json");
    format.insert(format.end(), {"--format", "json"});
    text.insert(text.end(), {"--format", "text"});
    const ProcessResult a = history(db, id, json), b = history(db, id, format);
    CHECK(a.exit_code == 0);
    CHECK(b.exit_code == a.exit_code);
    CHECK(b.out == a.out);
    CHECK(b.err == a.err);
    const ProcessResult plain = history(db, id, window), t = history(db, id, text);
    CHECK(t.out == plain.out);
    CHECK(t.err == plain.err);
  }
}

TEST_CASE("history picture: --limit and --since bound the picture") {
  CliDb db;
  const std::string id = eventful_run(db);
  // The last three states, and of the attempts only those since the oldest of them.
  const ProcessResult r = history(db, id, {"--format", "mermaid", "--limit", "3"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "runctl: the last 3 states are shown and more match (use --limit for more)\n");
  CHECK(r.out.find("s0[\"PENDING<br/>") != std::string::npos);
  CHECK(r.out.find("s2[\"COMPLETED<br/>") != std::string::npos);
  CHECK(r.out.find("SCHEDULED") == std::string::npos);
  CHECK(r.out.find("WAIT RUNNING") == std::string::npos);
  CHECK(r.out.find("a0{{\"ABORT PENDING<br/>") != std::string::npos);
  CHECK(r.out.find("a1{{\"REJECT PAUSED<br/>") != std::string::npos);
  CHECK(r.out.find("s0 -.-> a1\n") != std::string::npos);
  CHECK(r.out.find("a2{{") == std::string::npos);

  // An attempt older than every state shown hangs on a node that says so.
  const ProcessResult since = history(db, id, {"--format", "mermaid", "--since", kT3});
  REQUIRE(since.exit_code == 0);
  CHECK(since.out.find("start([\"earlier states not shown\"])") != std::string::npos);
  CHECK(since.out.find("start -.-> a0\n") != std::string::npos);
  CHECK(since.out.find("a0{{\"ABORT PENDING<br/>") != std::string::npos);
  CHECK(since.out.find("start -.-> a1\n") != std::string::npos);
  CHECK(since.out.find("[\"PENDING<br/>") == std::string::npos);
}

TEST_CASE("history picture: a bad --format exits 64 with one line and prints nothing") {
  CliDb db;
  const std::string id = eventful_run(db);
  const ProcessResult r = history(db, id, {"--format", "png"});
  CHECK(r.exit_code == 64);
  CHECK(r.out.empty());
  CHECK(r.err == "runctl: usage: --format: png not in {text,json,mermaid,dot,svg} (see --help)\n");
}

TEST_CASE("history picture: svg through Graphviz, or one line when it is missing") {
  CliDb db;
  const std::string id = eventful_run(db);
  // PATH without dot, whatever this machine has installed.
  const ProcessResult missing = run_process({"/usr/bin/env", "PATH=" + db.dir(), runctl_binary(),
                                             "--db", db.path(), "history", id, "--format", "svg"});
  CHECK(missing.exit_code == 69);
  CHECK(missing.out.empty());
  CHECK(missing.err ==
        "runctl: --format svg: no dot on PATH; install Graphviz (apt-get install graphviz)\n");

  REQUIRE_MESSAGE(!graphviz_dot().empty(), "no dot on PATH: install Graphviz");
  const ProcessResult svg = history(db, id, {"--format", "svg"});
  REQUIRE_MESSAGE(svg.exit_code == 0, svg.err);
  CHECK(svg.err == "");
  CHECK((svg.out.rfind("<?xml", 0) == 0 || svg.out.rfind("<svg", 0) == 0));
  CHECK(svg.out.find("WaitForScheduledTime") != std::string::npos);
}

TEST_CASE("history picture: --format completes to its values") {
  const ProcessResult r =
      run_process({runctl_binary(), "__complete", "history", "abcd", "--format", ""});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "text\njson\nmermaid\ndot\nsvg\n");
}

}  // namespace
}  // namespace runctl::clitest
