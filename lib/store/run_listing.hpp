// The one query behind RunRepository::list_run_ids, written once for both backends: each
// supplies its dialect (placeholders, glob matching, tag membership), the filter's clauses and
// their order are the same everywhere, so both backends list the same runs in the same order.
#pragma once
#include <string>
#include <vector>

#include "store/repositories.hpp"

namespace runctl {

struct SqlDialect {
  std::string (*placeholder)(int n);  // the nth parameter: "?3", "$3"
  // The condition that `name` matches the glob bound at placeholder `p`.
  std::string (*glob_match)(const std::string& p);
  // The condition that the JSON array of strings in column `tags` holds the value at `p`.
  std::string (*has_tag)(const std::string& p);
  bool glob_as_regex;       // bind the glob as a POSIX regex (glob_to_regex) instead
  const char* nulls_first;  // after "ORDER BY state_timestamp": "" or " NULLS FIRST"
};

struct ListQuery {
  std::string sql;
  std::vector<std::string> params;  // all text, in placeholder order
};

ListQuery run_listing_query(const RunFilter& filter, const SqlDialect& dialect);

// "a*b?[^c]" as an anchored POSIX regex with the same meaning as SQLite's GLOB.
std::string glob_to_regex(const std::string& glob);

}  // namespace runctl
