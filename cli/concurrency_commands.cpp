// concurrency-limit (V1 tag limits) and global-limit (V2 limits): what SecureTaskConcurrencySlots
// and the deployment rules read. `show` names every holder of a limit's slots and how to free one.
#include <iomanip>
#include <iostream>

#include "cli/invocation.hpp"
#include "cli/list_output.hpp"
#include "engine/concurrency_json.hpp"
#include "store/database.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

void require_non_empty(const std::string& value, const std::string& what) {
  if (value.empty()) throw Error(ErrorKind::kUsage, what + " must not be empty");
}

// ---------------------------------------------------------------------------------------------
// V1

[[noreturn]] void no_v1_limit(const std::string& tag) {
  throw Error(ErrorKind::kNotFound, "no concurrency limit on tag \"" + tag + "\"");
}

// Who holds a V1 slot: the task run ids in active_slots, with their current state when the run
// still exists (a slot held by a deleted or finished run is a leak an operator may free).
Json v1_holders(Database& db, const V1Limit& l) {
  Json holders = Json::array();
  for (const auto& run_id : l.active_slots) {
    Json h{{"task_run_id", run_id},
           {"found", false},
           {"state_type", nullptr},
           {"state_name", nullptr}};
    if (auto run = db.runs().load_run(RunKind::kTask, run_id)) {
      h["found"] = true;
      if (run->state_type) h["state_type"] = type_name(*run->state_type);
      if (run->state_name) h["state_name"] = *run->state_name;
    }
    holders.push_back(std::move(h));
  }
  return holders;
}

void print_v1_row(const V1Limit& l) {
  std::cout << std::left << std::setw(24) << printable(l.tag) << " limit " << std::setw(6)
            << l.limit << " active " << l.active_slots.size() << "  " << l.id << '\n';
}

// What a command that changed a limit prints: its JSON, or its row.
void print_v1(const V1Limit& l, bool json) {
  if (json)
    print_json(v1_limit_to_json(l));
  else
    print_v1_row(l);
}

void add_v1_commands(CLI::App& cli, Invocation& invocation) {
  CLI::App* group = cli.add_subcommand(
      "concurrency-limit", "V1 tag concurrency limits: at most N task runs with a tag RUNNING");
  group->require_subcommand(1);

  struct Flags {
    std::string tag;
    std::string run_id;
    std::int64_t limit = 0;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* create = group->add_subcommand(
      "create", "create the limit of a tag, or change it (Prefect's create is an upsert)");
  create->add_option("--tag", f->tag, "the tag")->required();
  create->add_option("--limit", f->limit, "how many task runs with the tag may run at once")
      ->required()
      ->check(kNonNegative);
  create->add_flag("--json", f->json, "print JSON");
  create->callback([&invocation, f] {
    require_non_empty(f->tag, "--tag");
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kCreate);
    ConcurrencyRepository& limits = db->concurrency();
    print_v1(invocation.commit(*db,
                               [&] {
                                 return limits.upsert_v1_limit(invocation.uuids().next(), f->tag,
                                                               f->limit, now);
                               }),
             f->json);
  });

  CLI::App* list = group->add_subcommand("list", "every V1 limit, by tag");
  list->add_flag("--json", f->json, "print JSON");
  list->callback([&invocation, f] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    print_list("limits", db->concurrency().list_v1_limits(), f->json, v1_limit_to_json,
               print_v1_row);
  });

  CLI::App* show = group->add_subcommand("show", "a tag's limit and the task runs holding it");
  show->add_option("TAG", f->tag, "the tag")->required();
  show->add_flag("--json", f->json, "print JSON");
  show->callback([&invocation, f] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    std::optional<V1Limit> l;
    l = db->concurrency().v1_limit_by_tag(f->tag);
    if (!l) no_v1_limit(f->tag);
    const Json holders = v1_holders(*db, *l);
    if (f->json) {
      Json out = v1_limit_to_json(*l);
      out["holders"] = holders;
      print_json(out);
      return;
    }
    std::cout << "tag:          " << printable(l->tag) << "\nid:           " << l->id
              << "\nlimit:        " << l->limit << "\nactive slots: " << l->active_slots.size()
              << "\nholders:\n";
    if (holders.empty()) std::cout << "  (none)\n";
    for (const Json& h : holders) {
      std::cout << "  " << h["task_run_id"].get<std::string>() << "  ";
      if (!h["found"].get<bool>())
        std::cout << "(no such task run)";
      else if (h["state_type"].is_null())
        std::cout << "(no state)";
      else
        std::cout << h["state_type"].get<std::string>() << " '"
                  << printable(h["state_name"].get<std::string>()) << "'";
      std::cout << '\n';
    }
    if (!holders.empty())
      std::cout << "free one: runctl concurrency-limit release " << printable(l->tag)
                << " TASK_RUN_ID    free all: runctl concurrency-limit reset " << printable(l->tag)
                << '\n';
  });

  CLI::App* reset = group->add_subcommand("reset", "free every slot of a tag's limit");
  reset->add_option("TAG", f->tag, "the tag")->required();
  reset->add_flag("--json", f->json, "print JSON");
  reset->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    ConcurrencyRepository& limits = db->concurrency();
    print_v1(invocation.commit(*db,
                               [&] {
                                 if (!limits.set_v1_active_slots(f->tag, {}, now))
                                   no_v1_limit(f->tag);
                                 return *limits.v1_limit_by_tag(f->tag);
                               }),
             f->json);
  });

  CLI::App* release =
      group->add_subcommand("release", "free the slot one task run holds (a leaked slot)");
  release->add_option("TAG", f->tag, "the tag")->required();
  release
      ->add_option("RUN", f->run_id,
                   "RUN: the holder, a task run id, a unique prefix (4+ hex) or a run name")
      ->required();
  release->add_flag("--json", f->json, "print JSON");
  release->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    // A full id is taken as given, so a slot whose task run no longer exists can be freed.
    const std::string run_id = resolve_reference(*db, Referent::kTaskRun, f->run_id);
    ConcurrencyRepository& limits = db->concurrency();
    print_v1(invocation.commit(
                 *db,
                 [&] {
                   std::optional<V1Limit> l = limits.v1_limit_by_tag(f->tag);
                   if (!l) no_v1_limit(f->tag);
                   auto it = std::find(l->active_slots.begin(), l->active_slots.end(), run_id);
                   if (it == l->active_slots.end())
                     throw Error(ErrorKind::kNotFound,
                                 "task run " + run_id + " holds no slot of tag \"" + f->tag + "\"");
                   l->active_slots.erase(it);
                   limits.set_v1_active_slots(f->tag, l->active_slots, now);
                   return *limits.v1_limit_by_tag(f->tag);
                 }),
             f->json);
  });

  CLI::App* remove = group->add_subcommand("delete", "delete a tag's limit");
  remove->add_option("TAG", f->tag, "the tag")->required();
  remove->add_flag("--json", f->json, "print JSON");
  remove->callback([&invocation, f] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    ConcurrencyRepository& limits = db->concurrency();
    invocation.commit(*db, [&] {
      if (!limits.delete_v1_limit(f->tag)) no_v1_limit(f->tag);
    });
    if (f->json)
      print_json(Json{{"deleted", f->tag}});
    else
      std::cout << "deleted the limit on tag \"" << printable(f->tag) << "\"\n";
  });
}

// ---------------------------------------------------------------------------------------------
// V2

[[noreturn]] void no_v2_limit(const std::string& name) {
  throw Error(ErrorKind::kNotFound, "no global concurrency limit named \"" + name + "\"");
}

// By name, else by id (a deployment's limit is easiest to reach by the id `deployment show`
// prints).
std::optional<V2Limit> find_v2(ConcurrencyRepository& limits, const std::string& name_or_id) {
  if (auto l = limits.v2_limit_by_name(name_or_id)) return l;
  return limits.v2_limit_by_id(name_or_id);
}

void print_v2_row(const V2Limit& l) {
  std::cout << std::left << std::setw(32) << printable(l.name) << " limit " << std::setw(6)
            << l.limit << " active_slots " << std::setw(6) << l.active_slots
            << (l.active ? "" : " (inactive)") << "  " << l.id << '\n';
}

void print_v2(const V2Limit& l, bool json) {
  if (json)
    print_json(v2_limit_to_json(l));
  else
    print_v2_row(l);
}

void print_lease_line(const Lease& lease, Timestamp now) {
  std::cout << "  " << lease.id << "  slots " << lease.slots << "  ";
  if (lease.holder)
    std::cout << printable(lease.holder->type) << ' ' << printable(lease.holder->id);
  else if (lease.origin_run_id)
    std::cout << "taken by run " << *lease.origin_run_id;
  else
    std::cout << "no holder";
  std::cout << "  expires " << format_timestamp(lease.expiration)
            << (lease.expiration < now ? "  [expired: freed by the next write or lease reap]" : "")
            << '\n';
}

void add_v2_commands(CLI::App& cli, Invocation& invocation) {
  CLI::App* group = cli.add_subcommand(
      "global-limit", "V2 (global) concurrency limits: tag:<tag> limits and deployment limits");
  group->require_subcommand(1);

  struct Flags {
    std::string name;
    std::optional<std::int64_t> limit, active_slots, denied_slots;
    std::optional<double> slot_decay;
    bool set_active = false;
    std::optional<std::string> new_name;
    bool inactive = false;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* create = group->add_subcommand("create", "create a V2 limit");
  create->add_option("NAME", f->name, "its name; \"tag:<tag>\" limits govern task runs' tags")
      ->required();
  create->add_option("--limit", f->limit, "how many slots")->required()->check(kNonNegative);
  create->add_flag("--inactive", f->inactive, "create it inactive (ignored by the rules)");
  create->add_option("--slot-decay", f->slot_decay, "slots freed per second (default 0)")
      ->check(kNonNegative);
  create->add_flag("--json", f->json, "print JSON");
  create->callback([&invocation, f] {
    require_non_empty(f->name, "NAME");
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kCreate);
    ConcurrencyRepository& limits = db->concurrency();
    V2Limit l;
    l.id = invocation.uuids().next();
    l.name = f->name;
    l.limit = *f->limit;
    l.active = !f->inactive;
    l.slot_decay_per_second = f->slot_decay.value_or(0);
    l.created = l.updated = now;
    invocation.commit(*db, [&] { limits.insert_v2_limit(l); });
    print_v2(l, f->json);
  });

  CLI::App* list = group->add_subcommand("list", "every V2 limit, by name");
  list->add_flag("--json", f->json, "print JSON");
  list->callback([&invocation, f] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    print_list("limits", db->concurrency().list_v2_limits(), f->json, v2_limit_to_json,
               print_v2_row);
  });

  CLI::App* show = group->add_subcommand("show", "a V2 limit and the leases holding its slots");
  show->add_option("NAME", f->name, "its name (or id)")->required();
  show->add_flag("--json", f->json, "print JSON");
  show->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();  // which leases have expired
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    ConcurrencyRepository& limits = db->concurrency();
    const std::optional<V2Limit> l = find_v2(limits, f->name);
    if (!l) no_v2_limit(f->name);
    const std::vector<Lease> leases = limits.leases_for_limit(l->id);
    if (f->json) {
      Json out = v2_limit_to_json(*l);
      Json list = Json::array();
      for (const auto& lease : leases) list.push_back(lease_to_json(lease, now));
      out["leases"] = list;
      print_json(out);
      return;
    }
    std::cout << "name:          " << printable(l->name) << "\nid:            " << l->id
              << "\nlimit:         " << l->limit << (l->active ? "" : " (inactive)")
              << "\nactive slots:  " << l->active_slots << "\ndenied slots:  " << l->denied_slots
              << "\nslot decay/s:  " << l->slot_decay_per_second
              << "\navg occupancy: " << l->avg_slot_occupancy_seconds << " s\nleases:\n";
    if (leases.empty()) std::cout << "  (none)\n";
    for (const auto& lease : leases) print_lease_line(lease, now);
    if (!leases.empty()) std::cout << "free one: runctl lease release LEASE_ID\n";
  });

  CLI::App* update =
      group->add_subcommand("update", "change a V2 limit (expired leases on it are reaped first)");
  update->add_option("NAME", f->name, "its name (or id)")->required();
  update->add_option("--limit", f->limit, "how many slots")->check(kNonNegative);
  // Two plain flags, not CLI11's negated-flag form: with an optional<bool> that form filled in
  // `false` when neither was given, so every update deactivated the limit.
  update->add_flag("--active", f->set_active, "make the rules use it again")
      ->excludes(update->add_flag("--inactive", f->inactive, "make the rules ignore it"));
  update->add_option("--slot-decay", f->slot_decay, "slots freed per second")->check(kNonNegative);
  update->add_option("--active-slots", f->active_slots, "set the occupied slot count")
      ->check(kNonNegative);
  update->add_option("--denied-slots", f->denied_slots, "set the denied slot count")
      ->check(kNonNegative);
  update->add_option("--name", f->new_name, "rename it");
  update->add_flag("--json", f->json, "print JSON");
  update->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    ConcurrencyRepository& limits = db->concurrency();
    print_v2(invocation.commit(*db,
                               [&] {
                                 std::optional<V2Limit> l = find_v2(limits, f->name);
                                 if (!l) no_v2_limit(f->name);
                                 const std::vector<std::string> ids{l->id};
                                 limits.reap_expired_leases(now, &ids);
                                 l = limits.v2_limit_by_id(l->id);
                                 if (f->limit) l->limit = *f->limit;
                                 if (f->set_active) l->active = true;
                                 if (f->inactive) l->active = false;
                                 if (f->slot_decay) l->slot_decay_per_second = *f->slot_decay;
                                 if (f->active_slots) l->active_slots = *f->active_slots;
                                 if (f->denied_slots) l->denied_slots = *f->denied_slots;
                                 if (f->new_name) {
                                   require_non_empty(*f->new_name, "--name");
                                   l->name = *f->new_name;
                                 }
                                 l->updated = now;
                                 limits.update_v2_limit(*l);
                                 return *l;
                               }),
             f->json);
  });

  CLI::App* remove = group->add_subcommand(
      "delete", "delete a V2 limit (a deployment using it is left without a limit)");
  remove->add_option("NAME", f->name, "its name (or id)")->required();
  remove->add_flag("--json", f->json, "print JSON");
  remove->callback([&invocation, f] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    ConcurrencyRepository& limits = db->concurrency();
    const V2Limit l = invocation.commit(*db, [&] {
      const std::optional<V2Limit> found = find_v2(limits, f->name);
      if (!found) no_v2_limit(f->name);
      limits.delete_v2_limit(found->id);
      return *found;
    });
    if (f->json)
      print_json(Json{{"deleted", l.name}, {"id", l.id}});
    else
      std::cout << "deleted global concurrency limit \"" << printable(l.name) << "\"\n";
  });
}

}  // namespace

void add_concurrency_commands(CLI::App& cli, Invocation& invocation) {
  add_v1_commands(cli, invocation);
  add_v2_commands(cli, invocation);
}

}  // namespace runctl::cli
