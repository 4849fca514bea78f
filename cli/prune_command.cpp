// prune --log-older-than DURATION [--dry-run] [--vacuum] [--json]: retention for the
// orchestration log. Rows older than the clock less DURATION are deleted in batches, each its
// own short write transaction, so that a concurrent set-state waits for one batch at most
// rather than for the whole prune. A log row carries its attempt (`log`) and its flow-run event
// (`events`); states and runs are kept (repositories.hpp, "Retention").
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/bounded_output.hpp"
#include "cli/invocation.hpp"
#include "util/error.hpp"

namespace runctl::cli {
namespace {

// Rows per write transaction: large enough that the per-commit cost is small, small enough
// that a writer waiting for the lock waits milliseconds, not seconds.
constexpr std::int64_t kDefaultBatchRows = 5000;

struct PruneFlags {
  std::optional<std::string> older_than;
  std::optional<std::string>
      batch_size;  // hidden: for tests, to make several batches of a few rows
  bool dry_run = false;
  bool vacuum = false;
  bool json = false;
};

struct PruneResult {
  std::int64_t deleted_rows = 0;
  Timestamp cutoff = 0;
  std::int64_t freed_bytes = 0;
  bool dry_run = false;
  bool vacuumed = false;
};

std::int64_t parse_batch_size(const std::optional<std::string>& text) {
  if (!text) return kDefaultBatchRows;
  std::int64_t value = 0;
  if (!CLI::detail::lexical_cast(*text, value) || value < 1)
    throw Error(ErrorKind::kUsage, "--batch-size: expected a positive integer, got " + *text);
  return value;
}

// 12345 -> "12,345".
std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3)
    digits.insert(static_cast<std::size_t>(i), ",");
  return n < 0 ? "-" + digits : digits;
}

// Decimal units, as disk sizes are quoted: 3100000 -> "3.1 MB".
std::string human_bytes(std::int64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " bytes";
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1000;
  int unit = 0;
  while (value >= 1000 && unit < 3) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

// Each batch commits on its own: an interrupted prune keeps what it deleted, and running it
// again finishes the job.
std::int64_t delete_in_batches(Database& db, Timestamp cutoff, std::int64_t batch_rows,
                               Invocation& invocation) {
  std::int64_t total = 0;
  for (;;) {
    Database::WriteTransaction tx(db);
    const std::int64_t deleted = db.runs().delete_log_before(cutoff, batch_rows);
    tx.commit();
    total += deleted;
    if (deleted > 0) invocation.committed = true;
    if (deleted < batch_rows) return total;
  }
}

PruneResult prune(Database& db, Timestamp cutoff, const PruneFlags& flags, Invocation& invocation) {
  PruneResult result;
  result.cutoff = cutoff;
  if (flags.dry_run) {
    result.dry_run = true;
    result.deleted_rows = db.runs().count_log_before(cutoff);
    return result;
  }
  const std::int64_t reusable_before = db.reusable_bytes();
  const std::int64_t size_before = db.storage_bytes();
  result.deleted_rows =
      delete_in_batches(db, cutoff, parse_batch_size(flags.batch_size), invocation);
  if (flags.vacuum) {
    db.compact();
    result.vacuumed = true;
    result.freed_bytes = std::max<std::int64_t>(0, size_before - db.storage_bytes());
  } else {
    result.freed_bytes = std::max<std::int64_t>(0, db.reusable_bytes() - reusable_before);
  }
  return result;
}

void print_result(const PruneResult& r, bool json) {
  if (json) {
    print_json(Json{{"deleted_rows", r.deleted_rows},
                    {"cutoff", format_timestamp(r.cutoff)},
                    {"freed_bytes", r.freed_bytes},
                    {"dry_run", r.dry_run},
                    {"vacuumed", r.vacuumed}});
    return;
  }
  if (r.dry_run) {
    std::cout << "would prune " << with_thousands(r.deleted_rows) << " log rows older than "
              << format_timestamp(r.cutoff) << " (dry run: nothing deleted)\n";
    return;
  }
  std::cout << "pruned " << with_thousands(r.deleted_rows) << " log rows older than "
            << format_timestamp(r.cutoff) << "; freed " << human_bytes(r.freed_bytes)
            << (r.vacuumed ? " (vacuumed)" : "") << '\n';
}

}  // namespace

void add_prune_command(CLI::App& cli, Invocation& invocation) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* cmd = cli.add_subcommand(
      "prune", "delete orchestration-log rows (attempts and their events) older than a duration");
  cmd->add_option("--log-older-than", flags->older_than,
                  "delete log rows written longer ago than this (90s, 15m, 1h30m, 2d, 1w; "
                  "against --now)");
  cmd->add_flag("--dry-run", flags->dry_run, "count the rows that would go; write nothing");
  cmd->add_flag("--vacuum", flags->vacuum,
                "then compact: SQLite VACUUM, PostgreSQL VACUUM orchestration_log");
  cmd->add_flag("--json", flags->json,
                "print one JSON object: deleted_rows, cutoff, freed_bytes, dry_run, vacuumed");
  // Hidden (empty group): the tests make batches of a few rows with it (docs/cli.md, prune).
  cmd->add_option("--batch-size", flags->batch_size, "rows per write transaction")->group("");

  cmd->callback([&invocation, flags] {
    // Every flag is checked before the database is opened: a mistake writes nothing.
    if (!flags->older_than)
      throw Error(ErrorKind::kUsage,
                  "prune: --log-older-than is required (a duration such as 30d or 12h)");
    parse_batch_size(flags->batch_size);
    const Timestamp cutoff =
        duration_ago(invocation.clock(), *flags->older_than, "--log-older-than");
    // A dry run only reads: it does not even migrate an older schema.
    const std::unique_ptr<Database> db =
        invocation.open_db(flags->dry_run ? OpenMode::kRead : OpenMode::kWriteExisting);
    print_result(prune(*db, cutoff, *flags, invocation), flags->json);
  });
}

}  // namespace runctl::cli
