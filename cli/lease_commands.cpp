// lease list | reap | release: the concurrency leases deployment and tag slots are held by.
// `reap` does what Prefect's repossessor service does on a timer; every write that touches a
// limit also reaps that limit's expired leases first.
#include <iostream>
#include <utility>

#include "cli/invocation.hpp"
#include "cli/list_output.hpp"
#include "engine/concurrency_json.hpp"
#include "store/database.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

void print_lease(const Lease& lease, Timestamp now) {
  std::cout << lease.id << "  slots " << lease.slots << "  expires "
            << format_timestamp(lease.expiration) << (lease.expiration < now ? " (expired)" : "");
  if (lease.holder)
    std::cout << "  holder " << printable(lease.holder->type) << ' ' << printable(lease.holder->id);
  else if (lease.origin_run_id)
    std::cout << "  taken by run " << *lease.origin_run_id;
  std::cout << "  limits";
  for (const auto& id : lease.resource_ids) std::cout << ' ' << id;
  std::cout << '\n';
}

}  // namespace

void add_lease_commands(CLI::App& cli, Invocation& invocation) {
  CLI::App* group = cli.add_subcommand("lease", "concurrency leases (slots of V2 limits)");
  group->require_subcommand(1);

  struct Flags {
    std::string lease_id;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* list = group->add_subcommand("list", "every lease, soonest expiry first");
  list->add_flag("--json", f->json, "print JSON");
  list->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();  // which leases have expired
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    print_list(
        "leases", db->concurrency().list_leases(), f->json,
        [now](const Lease& lease) { return lease_to_json(lease, now); },
        [now](const Lease& lease) { print_lease(lease, now); });
  });

  CLI::App* reap = group->add_subcommand(
      "reap", "revoke every expired lease and free its slots (Prefect's repossessor)");
  reap->add_flag("--json", f->json, "print JSON");
  reap->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    ConcurrencyRepository& limits = db->concurrency();
    const std::vector<Lease> reaped =
        invocation.commit(*db, [&] { return limits.reap_expired_leases(now); });
    if (f->json) {
      Json out = Json::array();
      for (const auto& lease : reaped) out.push_back(lease_to_json(lease, now));
      print_json(Json{{"reaped", out}});
      return;
    }
    for (const auto& lease : reaped) print_lease(lease, now);
    std::cout << reaped.size() << " expired lease" << (reaped.size() == 1 ? "" : "s")
              << " reaped\n";
  });

  CLI::App* release = group->add_subcommand(
      "release", "free a lease's slots and revoke it (a slot leaked by a crashed client)");
  release->add_option("LEASE", f->lease_id, "LEASE: a lease id or a unique prefix (4+ hex)")
      ->required();
  release->add_flag("--json", f->json, "print JSON");
  release->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    const std::string id = resolve_reference(*db, Referent::kLease, f->lease_id);
    ConcurrencyRepository& limits = db->concurrency();
    const auto [lease, decremented] = invocation.commit(*db, [&] {
      const std::optional<Lease> found = limits.read_lease(id);
      if (!found) throw Error(ErrorKind::kNotFound, "lease " + id + " not found");
      limits.delete_lease(id);
      // As the repossessor does, the lease goes even if a limit is gone or inactive; the result
      // says whether every limit was decremented.
      return std::pair{*found, limits.decrement(found->resource_ids, found->slots, now)};
    });
    if (f->json) {
      print_json(Json{{"released", lease_to_json(lease, now)}, {"decremented", decremented}});
      return;
    }
    std::cout << "released lease " << id << " (" << lease.slots << " slot"
              << (lease.slots == 1 ? "" : "s") << ")"
              << (decremented ? "" : "; some of its limits are gone or inactive") << '\n';
  });
}

}  // namespace runctl::cli
