// Issue 14, "Also": the docs say what the binary does. Each case runs what a page shows and
// compares: init's schema version (docs/cli.md), which commands print a JSON array
// (docs/exit-codes.md), the exit-70 stderr line (docs/exit-codes.md), the trace's columns
// (docs/trace.md) and the README's example session, pasted into a shell. (Which commands read
// the clock is checked against docs/cli.md in hardening_clock_test.cpp.)
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "hardening_commands.hpp"

namespace runctl::clitest {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The body of the first ``` block after `marker` (the fence's info string skipped).
std::string code_block_after(const std::string& text, const std::string& marker) {
  const auto at = text.find(marker);
  REQUIRE_MESSAGE(at != std::string::npos, "no " << marker);
  const auto open = text.find("```", at);
  const auto body = text.find('\n', open) + 1;
  const auto close = text.find("\n```", body);
  return text.substr(body, close - body + 1);
}

// The backticked names in the sentence of `text` that starts with `opening`, up to its period.
std::set<std::string> names_in_sentence(const std::string& text, const std::string& opening) {
  const auto at = text.find(opening);
  REQUIRE_MESSAGE(at != std::string::npos, "no sentence \"" << opening << "\"");
  std::string sentence = text.substr(at);
  std::smatch end;
  if (std::regex_search(sentence, end, std::regex("\\.(\\s|$)")))
    sentence = sentence.substr(0, static_cast<std::size_t>(end.position(0)));
  std::set<std::string> out;
  const std::regex name("`([a-z -]+)`");
  for (auto it = std::sregex_iterator(sentence.begin(), sentence.end(), name);
       it != std::sregex_iterator(); ++it)
    out.insert((*it)[1]);
  return out;
}

TEST_CASE("docs: init's schema version in docs/cli.md is the binary's" *
          RUNCTL_SQLITE_ONLY("docs/cli.md shows init on a SQLite file; PostgreSQL's schema "
                             "versions are its own")) {
  CliDb db;
  const ProcessResult text = db.run({"init"});
  REQUIRE(text.exit_code == 0);
  const std::string version = text.out.substr(text.out.rfind(' ') + 1, std::string::npos);
  const Json json = db.json({"init"}, 0);
  CHECK(std::to_string(json["schema_version"].get<int>()) + "\n" == version);
  const std::string cli = source_file("docs/cli.md");
  CHECK(cli.find("/tmp/docs1.db: schema version " + version) != std::string::npos);
  CHECK(cli.find("{\"path\":\"/tmp/docs1.db\",\"schema_version\":" +
                 std::to_string(json["schema_version"].get<int>()) + "}") != std::string::npos);
}

TEST_CASE("docs: every --json is an object, and docs/exit-codes.md names every command") {
  EveryCommand e;
  std::set<std::string> arrays, objects;
  for (const auto& entry : e.commands) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot CAPTURE one
    const std::vector<std::string>& args = entry.second;
    CAPTURE(name);
    // A clock after everything EveryCommand stamped, at which its lease is still held.
    std::vector<std::string> with{"--now", "2024-05-01T12:00:02Z"};
    with.insert(with.end(), args.begin(), args.end());
    with.push_back("--json");
    const ProcessResult r = e.db.run(with);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const Json j = Json::parse(r.out);
    (j.is_array() ? arrays : objects).insert(name);
  }
  const std::string doc = source_file("docs/exit-codes.md");
  CHECK(arrays.empty());  // a list is an object with a named array (docs/cli.md, "JSON")
  CHECK(names_in_sentence(doc, "It is an object for") == objects);
}

TEST_CASE("docs: the exit-70 stderr line in docs/exit-codes.md is the binary's") {
  CliDb db;
  const std::string id = db.create_flow({"--state", "PENDING"});
  const std::string policy =
      db.policy(Json::parse(R"({"rules": [{"name": "Boom", "from": "*", "to": "*", "before":
                      [{"fail": "disk on fire"}]}]})"),
                "fail.json");
  const ProcessResult r = db.run({"set-state", id, "RUNNING", "--policy", policy});
  REQUIRE(r.exit_code == 70);
  const std::string doc = source_file("docs/exit-codes.md");
  CHECK(doc.find("\n" + r.err) != std::string::npos);
}

TEST_CASE("docs: the annotated trace in docs/trace.md is what the binary prints") {
  const std::string doc = source_file("docs/trace.md");
  const std::string policy = code_block_after(doc, "`park.json` sends");
  const std::string session = code_block_after(doc, "A real session:");
  CliDb db;
  const std::string file = db.dir() + "/park.json";
  reliability::write_file(file, policy);
  const std::string id = db.create_flow({"--now", "2024-05-01T12:00:00Z", "--state", "PENDING"});
  const ProcessResult r =
      db.run({"--now", "2024-05-01T12:01:00Z", "set-state", id, "RUNNING", "--policy", file, "-v"});
  REQUIRE(r.exit_code == 1);
  // Hook timings vary from run to run; everything else, the column widths included, must match.
  const std::regex micros("  [0-9]+ us");
  auto normalized = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const std::string& line : split_lines(text))
      if (line.rfind("trace: ", 0) == 0) out.push_back(std::regex_replace(line, micros, "  N us"));
    return out;
  };
  const auto documented = normalized(session);
  REQUIRE(documented.size() > 10);
  CHECK(normalized(r.err) == documented);
}

TEST_CASE("docs: the README's example session works when pasted into a shell") {
  const std::string readme = source_file("README.md");
  const std::string block = code_block_after(readme, "## A session");
  std::string script = "set -e\n";
  int commands = 0;
  for (const std::string& line : split_lines(block)) {
    if (line.rfind("$ ", 0) != 0) continue;  // output lines
    script += line.substr(2) + "\n";
    ++commands;
  }
  REQUIRE(commands >= 4);
  CliDb db;
  const std::string bin = runctl_binary();
  script = "export PATH='" + bin.substr(0, bin.rfind('/')) + "':\"$PATH\"\ncd '" + db.dir() +
           "'\n" + script;
  const ProcessResult r = run_process({"/bin/sh", "-c", script});
  INFO("script:\n" << script << "\nstderr: " << r.err << "\nstdout: " << r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("runctl: ") == std::string::npos);  // no error line, only the -v trace
}

}  // namespace
}  // namespace runctl::clitest
