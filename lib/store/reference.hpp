// Command-line references to runs, deployments and leases, as git takes commits: a full id (any
// case), a unique prefix of at least 4 hex characters of the canonical id, or, for runs and
// deployments, a unique name (docs/cli.md, "Naming runs"). Backend-neutral: the backends only
// match rows (RunRepository::match_runs, ConcurrencyRepository::match_deployments and
// match_leases); deciding what a reference means and what its errors say happens here, once.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/records.hpp"

namespace runctl {

// What a reference names. kRun is either kind: flow runs are looked up first, as set-state does.
enum class Referent { kRun, kFlowRun, kTaskRun, kDeployment, kLease };

// The fewest hex characters a prefix must have: 4 of them leave 65,536 buckets, enough to pick
// one run among hundreds without a list of candidates.
inline constexpr int kMinIdPrefix = 4;
// How many candidates an ambiguous reference lists; one more is fetched to know there are more.
inline constexpr int kListedCandidates = 10;

// `text` in lower case when it is the beginning of a canonical id (8-4-4-4-12 hex digits with
// dashes, at least kMinIdPrefix of them hex) and not a whole id, else empty.
std::string id_prefix_of(std::string_view text);

// The id `text` refers to, canonical. A full id is returned without a look-up: the command's own
// look-up reports an unknown one, as it always has. Otherwise the unique row whose id begins with
// the prefix, else (runs and deployments) the unique row of that name. Throws Error(kBadData)
// for a reference that is neither an id, a prefix nor a known name, and for an ambiguous one
// (listing at most kListedCandidates candidates); Error(kNotFound) for a well-formed prefix that
// matches nothing.
std::string resolve_reference(Database& db, Referent what, const std::string& text);

// The statements behind the backends' match_* methods, written once for both: `select` lists
// (id, name) by id, at most `limit`; `count` counts every match. `name_column` is null for a
// table whose rows have no name.
struct RefSql {
  std::string select;
  std::string count;
  std::vector<std::string> params;  // all text, in placeholder order
};
RefSql reference_sql(const std::string& table, const char* name_column, const RefQuery& query,
                     int limit, std::string (*placeholder)(int n));

}  // namespace runctl
