#include "store/run_listing.hpp"

#include "engine/state_type.hpp"
#include "util/time.hpp"

namespace runctl {

ListQuery run_listing_query(const RunFilter& f, const SqlDialect& d) {
  ListQuery q;
  std::vector<std::string> where;
  const auto param = [&](std::string value) {
    q.params.push_back(std::move(value));
    return d.placeholder(static_cast<int>(q.params.size()));
  };
  if (!f.states.empty()) {
    std::string in;
    f.states.for_each([&](MaybeType t) {
      if (t) in += (in.empty() ? "" : ", ") + param(std::string(type_name(t)));
    });
    std::string clause = in.empty() ? "" : "state_type IN (" + in + ")";
    if (f.states.contains(std::nullopt))
      clause = clause.empty() ? "state_type IS NULL" : "(" + clause + " OR state_type IS NULL)";
    where.push_back(clause);
  }
  if (f.name_glob)
    where.push_back(
        d.glob_match(param(d.glob_as_regex ? glob_to_regex(*f.name_glob) : *f.name_glob)));
  if (f.tag) where.push_back(d.has_tag(param(*f.tag)));
  if (f.deployment_id) where.push_back("deployment_id = " + param(*f.deployment_id));
  if (f.flow_run_id) where.push_back("flow_run_id = " + param(*f.flow_run_id));
  if (f.state_before)
    where.push_back("state_timestamp < " + param(format_timestamp(*f.state_before)));
  if (f.state_since)
    where.push_back("state_timestamp >= " + param(format_timestamp(*f.state_since)));

  q.sql = std::string("SELECT id FROM ") + (f.kind == RunKind::kFlow ? "flow_run" : "task_run");
  for (std::size_t i = 0; i < where.size(); ++i) q.sql += (i ? " AND " : " WHERE ") + where[i];
  q.sql += std::string(" ORDER BY state_timestamp") + d.nulls_first + ", id LIMIT " +
           std::to_string(f.limit < 0 ? 0 : f.limit);
  return q;
}

std::string glob_to_regex(const std::string& glob) {
  std::string out = "^";
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else if (c == '[') {
      // A bracket expression as SQLite's GLOB reads it: "[^...]" negates, "]" first is a member.
      const std::size_t close = glob.find(']', i + (i + 1 < glob.size() && glob[i + 1] == '^') + 2);
      if (close == std::string::npos) {
        out += "\\[";
        continue;
      }
      std::string body = glob.substr(i + 1, close - i - 1);
      std::string escaped;
      for (char b : body) {
        if (b == '\\')
          escaped += "\\\\";
        else
          escaped += b;
      }
      out += "[" + escaped + "]";
      i = close;
    } else if (std::string_view(".^$+(){}|\\").find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out + "$";
}

}  // namespace runctl
