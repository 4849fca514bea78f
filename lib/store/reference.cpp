#include "store/reference.hpp"

#include <algorithm>
#include <cctype>

#include "util/error.hpp"
#include "util/uuid.hpp"

namespace runctl {
namespace {

constexpr std::size_t kUuidLength = 36;

bool is_dash_position(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

const char* noun_of(Referent what) {
  switch (what) {
    case Referent::kRun:
      return "run";
    case Referent::kFlowRun:
      return "flow run";
    case Referent::kTaskRun:
      return "task run";
    case Referent::kDeployment:
      return "deployment";
    case Referent::kLease:
      return "lease";
  }
  return "run";
}

bool has_names(Referent what) {
  return what != Referent::kLease;
}

// Flow runs before task runs, as set-state looks a run up; each list is already by id.
RefMatches match_both_kinds(RunRepository& runs, const RefQuery& query, int limit) {
  RefMatches all = runs.match_runs(RunKind::kFlow, query, limit);
  RefMatches tasks = runs.match_runs(RunKind::kTask, query, limit);
  all.total += tasks.total;
  for (RefMatch& m : tasks.first) {
    if (static_cast<int>(all.first.size()) >= limit) break;
    all.first.push_back(std::move(m));
  }
  return all;
}

RefMatches match(Database& db, Referent what, const RefQuery& query) {
  const int limit = kListedCandidates + 1;
  switch (what) {
    case Referent::kRun:
      return match_both_kinds(db.runs(), query, limit);
    case Referent::kFlowRun:
      return db.runs().match_runs(RunKind::kFlow, query, limit);
    case Referent::kTaskRun:
      return db.runs().match_runs(RunKind::kTask, query, limit);
    case Referent::kDeployment:
      return db.concurrency().match_deployments(query, limit);
    case Referent::kLease:
      return db.concurrency().match_leases(query.text, limit);
  }
  return {};
}

std::string plural(std::int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// `run ID prefix "abcd" is ambiguous: 12 runs match: <id> (<name>), ... and 2 more`
[[noreturn]] void ambiguous(Referent what, const RefQuery& query, const RefMatches& found) {
  const std::string noun = noun_of(what);
  std::string message = noun + (query.by == RefQuery::By::kName ? " name \"" : " ID prefix \"") +
                        query.text + "\" is ambiguous: " + plural(found.total, noun) + " match: ";
  const std::size_t listed =
      std::min<std::size_t>(found.first.size(), static_cast<std::size_t>(kListedCandidates));
  for (std::size_t i = 0; i < listed; ++i) {
    if (i > 0) message += ", ";
    message += found.first[i].id;
    if (!found.first[i].name.empty()) message += " (" + found.first[i].name + ")";
  }
  const std::int64_t more = found.total - static_cast<std::int64_t>(listed);
  if (more > 0) message += " and " + std::to_string(more) + " more";
  throw Error(ErrorKind::kBadData, message);
}

[[noreturn]] void not_a_reference(Referent what, const std::string& text) {
  const std::string noun = noun_of(what);
  const std::string prefix =
      "a prefix of at least " + std::to_string(kMinIdPrefix) + " hex characters";
  const std::string hint = has_names(what)
                               ? "a " + noun + " id, " + prefix + ", or a " + noun + " name"
                               : "a " + noun + " id or " + prefix;
  const std::string what_it_is_not = "not a " + noun + (has_names(what) ? " id or name" : " id");
  throw Error(ErrorKind::kBadData, what_it_is_not + ": \"" + text + "\" (" + hint + ")");
}

// The one match, or an error when there are several; nullopt for none.
std::optional<std::string> unique(Referent what, const RefQuery& query, const RefMatches& found) {
  if (found.total > 1) ambiguous(what, query, found);
  if (found.first.empty()) return std::nullopt;
  return found.first.front().id;
}

}  // namespace

std::string id_prefix_of(std::string_view text) {
  if (text.size() >= kUuidLength) return {};
  std::string prefix;
  int hex = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    if (is_dash_position(i) ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return {};
    hex += c != '-';
    prefix += c;
  }
  return hex >= kMinIdPrefix ? prefix : std::string();
}

std::string resolve_reference(Database& db, Referent what, const std::string& text) {
  if (std::optional<std::string> id = normalize_uuid(text)) return *id;
  const std::string prefix = id_prefix_of(text);
  if (!prefix.empty()) {
    const RefQuery query{RefQuery::By::kIdPrefix, prefix};
    if (std::optional<std::string> id = unique(what, query, match(db, what, query))) return *id;
  }
  if (has_names(what)) {
    const RefQuery query{RefQuery::By::kName, text};
    if (std::optional<std::string> id = unique(what, query, match(db, what, query))) return *id;
  }
  if (prefix.empty()) not_a_reference(what, text);
  const std::string noun = noun_of(what);
  throw Error(ErrorKind::kNotFound,
              noun + " ID prefix \"" + prefix + "\" not found: no " + noun + " id begins with it" +
                  (has_names(what) ? " and no " + noun + " has that name" : ""));
}

RefSql reference_sql(const std::string& table, const char* name_column, const RefQuery& query,
                     int limit, std::string (*placeholder)(int n)) {
  RefSql sql;
  std::string where;
  if (query.by == RefQuery::By::kIdPrefix) {
    // '~' sorts after every hex digit and the dash, byte by byte: [p, p~) is every id that
    // begins with p, a range the primary key's index serves.
    where = "id >= " + placeholder(1) + " AND id < " + placeholder(2);
    sql.params = {query.text, query.text + "~"};
  } else {
    where = std::string(name_column) + " = " + placeholder(1);
    sql.params = {query.text};
  }
  const std::string name = name_column ? name_column : "''";
  sql.select = "SELECT id, " + name + " FROM " + table + " WHERE " + where + " ORDER BY id LIMIT " +
               std::to_string(limit);
  sql.count = "SELECT count(*) FROM " + table + " WHERE " + where;
  return sql;
}

}  // namespace runctl
