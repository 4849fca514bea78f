// The reference scenario corpus (tests/scenarios/corpus, format in tests/scenarios/README.md):
// loading it, and comparing a run's observed result with NAME.expected.json. Shared by the CLI
// runner (tests/scenarios/scenario_runner.cpp) and the engine test
// (tests/unit/engine_scenarios_test.cpp), so both judge a scenario by exactly the same rules.
#pragma once
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace runctl::scenarios {

using nlohmann::json;

struct Scenario {
  std::string name;  // file name without ".json"
  json spec;         // NAME.json: run_kind, initial_state, proposed_state, policy
  json expected;     // NAME.expected.json

  // The CLI always proposes a state, so scenarios without one are only run against the engine.
  bool has_proposal() const { return !spec.value("proposed_state", json()).is_null(); }
};

inline json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

// Every NAME.json in `dir` that has its NAME.expected.json, sorted by name so runs are
// reproducible. A scenario without its expectation is an error, not silently skipped.
inline std::vector<Scenario> load_corpus(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string suffix = ".expected.json";
  std::vector<Scenario> out;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    if (file.size() >= suffix.size() &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
      continue;
    Scenario s;
    s.name = entry.path().stem().string();
    s.spec = read_json_file(entry.path());
    s.expected = read_json_file(fs::path(dir) / (s.name + suffix));
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
  return out;
}

// The corpus, read once per process: doctest re-enters a test case once per SUBCASE.
inline const std::vector<Scenario>& corpus(const std::string& dir) {
  static std::map<std::string, std::vector<Scenario>> cache;
  auto it = cache.find(dir);
  if (it == cache.end()) it = cache.emplace(dir, load_corpus(dir)).first;
  return it->second;
}

// `object` reduced to `keys` (a missing key reads as null); null stays null. States in the
// expectations carry only these keys, while runctl prints ids, timestamps and details too.
inline json project(const json& object, std::initializer_list<const char*> keys) {
  if (object.is_null()) return nullptr;
  json out = json::object();
  for (const char* k : keys) out[k] = object.contains(k) ? object[k] : json();
  return out;
}

inline json project_validated(const json& state) {
  return project(state, {"type", "name", "message"});
}
inline json project_run_state(const json& state) {
  return project(state, {"type", "name"});
}
inline json project_details(const json& details) {
  return project(details, {"type", "reason", "delay_seconds"});
}

// The exit code runctl's contract gives a transition outcome (README, "Expected result").
inline int exit_code_for(const std::string& status, bool error) {
  if (error) return 70;
  if (status == "ACCEPT") return 0;
  if (status == "REJECT") return 1;
  if (status == "WAIT") return 2;
  if (status == "ABORT") return 3;
  return -1;
}

// The fields of NAME.expected.json, in its order. `actual` must have the same shape, already
// projected (project_validated etc.).
inline const std::vector<std::string>& compared_fields() {
  static const std::vector<std::string> fields{"exit_code",
                                               "status",
                                               "details",
                                               "validated_state",
                                               "run_state_after",
                                               "rule_signature",
                                               "finalization_signature",
                                               "parameters",
                                               "side_effects",
                                               "error"};
  return fields;
}

// One line per field that differs: "status: expected \"ACCEPT\", got \"REJECT\"". Objects are
// compared as JSON values (key order does not matter), arrays element by element in order.
inline std::vector<std::string> differences(
    const json& expected, const json& actual,
    const std::vector<std::string>& fields = compared_fields()) {
  std::vector<std::string> out;
  for (const std::string& f : fields) {
    const json e = expected.contains(f) ? expected[f] : json();
    const json a = actual.contains(f) ? actual[f] : json();
    if (e != a) out.push_back(f + ": expected " + e.dump() + ", got " + a.dump());
  }
  return out;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

}  // namespace runctl::scenarios
