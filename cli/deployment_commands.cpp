// deployment create | list | show: deployments with an optional concurrency limit (a V2 limit
// named "deployment:<id>") and concurrency options, which the flow-run concurrency rules read.
// Flow runs name their deployment with `flow-run create --deployment-id`.
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

Json deployment_to_json(ConcurrencyRepository& limits, const Deployment& d) {
  const auto flow = limits.read_flow(d.flow_id);
  std::optional<V2Limit> limit;
  if (d.concurrency_limit_id) limit = limits.v2_limit_by_id(*d.concurrency_limit_id);
  return Json{{"id", d.id},
              {"created", format_timestamp(d.created)},
              {"name", d.name},
              {"flow_id", d.flow_id},
              {"flow_name", flow ? Json(flow->name) : Json(nullptr)},
              {"tags", d.tags},
              {"concurrency_limit", limit ? Json(limit->limit) : Json(nullptr)},
              {"concurrency_limit_id",
               d.concurrency_limit_id ? Json(*d.concurrency_limit_id) : Json(nullptr)},
              {"concurrency_options", concurrency_options_to_json(d.concurrency_options)},
              {"global_concurrency_limit", limit ? v2_limit_to_json(*limit) : Json(nullptr)}};
}

void print_deployment_row(ConcurrencyRepository& limits, const Deployment& d) {
  std::optional<V2Limit> limit;
  if (d.concurrency_limit_id) limit = limits.v2_limit_by_id(*d.concurrency_limit_id);
  std::cout << d.id << "  " << std::left << std::setw(24) << printable(d.name);
  if (limit)
    std::cout << " limit " << limit->limit << " (" << limit->active_slots << " taken)";
  else
    std::cout << " no limit";
  if (d.concurrency_options)
    std::cout << "  " << strategy_name(d.concurrency_options->collision_strategy);
  std::cout << '\n';
}

}  // namespace

void add_deployment_commands(CLI::App& cli, Invocation& invocation) {
  CLI::App* group = cli.add_subcommand(
      "deployment", "deployments: a flow run's deployment may limit how many of its runs run");
  group->require_subcommand(1);

  struct Flags {
    std::optional<std::string> id, name, flow_name, tags, strategy;
    std::optional<std::int64_t> limit, grace_period;
    std::string deployment_id;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* create = group->add_subcommand("create", "create a deployment");
  create->add_option("--name", f->name, "its name (default: derived from the id)");
  create->add_option("--flow-name", f->flow_name,
                     "the flow it deploys, created if missing (default: the deployment's name)");
  create
      ->add_option("--concurrency-limit", f->limit,
                   "at most N of its flow runs PENDING/RUNNING/CANCELLING (a V2 limit named "
                   "deployment:<id>)")
      ->check(kNonNegative);
  create
      ->add_option("--collision-strategy", f->strategy,
                   "when the limit is full: enqueue (AwaitingConcurrencySlot, the default) or "
                   "cancel-new")
      ->check(CLI::IsMember({"enqueue", "cancel-new"}, CLI::ignore_case));
  create
      ->add_option("--grace-period", f->grace_period,
                   "lease TTL of a slot in seconds, 60..86400 (default: the server setting)")
      ->check(CLI::Range(std::int64_t{60}, std::int64_t{86400}));
  create->add_option("--tags", f->tags, "comma-separated tags");
  create->add_option("--id", f->id, "its id (a UUID); default: a new UUID v4");
  create->add_flag("--json", f->json, "print JSON");
  create->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();
    Deployment d;
    d.id = f->id ? parse_id(*f->id, "deployment") : invocation.uuids().next();
    d.name = f->name ? *f->name : "deployment-" + d.id.substr(0, 8);
    if (d.name.empty()) throw Error(ErrorKind::kUsage, "--name must not be empty");
    if (f->tags) d.tags = split_list(*f->tags);
    d.created = now;
    if (f->strategy || f->grace_period) {
      ConcurrencyOptions o;  // Prefect's model defaults the strategy to ENQUEUE
      if (f->strategy)
        o.collision_strategy = (*f->strategy == "cancel-new" || *f->strategy == "CANCEL-NEW")
                                   ? CollisionStrategy::kCancelNew
                                   : CollisionStrategy::kEnqueue;
      o.grace_period_seconds = f->grace_period;
      d.concurrency_options = o;
    }
    const std::string flow_name = f->flow_name.value_or(d.name);
    if (flow_name.empty()) throw Error(ErrorKind::kUsage, "--flow-name must not be empty");

    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kCreate);
    ConcurrencyRepository& limits = db->concurrency();
    const Json out = invocation.commit(*db, [&] {
      d.flow_id = limits.ensure_flow(invocation.uuids().next(), flow_name, now).id;
      if (f->limit) {
        V2Limit l;
        l.id = invocation.uuids().next();
        l.name = "deployment:" + d.id;
        l.limit = *f->limit;
        l.created = l.updated = now;
        limits.insert_v2_limit(l);
        d.concurrency_limit_id = l.id;
      }
      limits.insert_deployment(d);
      return deployment_to_json(limits, d);
    });
    if (f->json)
      print_json(out);
    else
      std::cout << d.id << '\n';
  });

  CLI::App* list = group->add_subcommand("list", "every deployment, oldest first");
  list->add_flag("--json", f->json, "print JSON");
  list->callback([&invocation, f] {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    ConcurrencyRepository& limits = db->concurrency();
    print_list(
        "deployments", limits.list_deployments(), f->json,
        [&](const Deployment& d) { return deployment_to_json(limits, d); },
        [&](const Deployment& d) { print_deployment_row(limits, d); });
  });

  CLI::App* show =
      group->add_subcommand("show", "a deployment, its limit and the flow runs holding its slots");
  show->add_option("DEPLOYMENT", f->deployment_id,
                   "DEPLOYMENT: a deployment id, a unique prefix (4+ hex) or a deployment name")
      ->required();
  show->add_flag("--json", f->json, "print JSON");
  show->callback([&invocation, f] {
    const Timestamp now = invocation.clock().now();  // which leases have expired
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    const std::string id = resolve_reference(*db, Referent::kDeployment, f->deployment_id);
    ConcurrencyRepository& limits = db->concurrency();
    const std::optional<Deployment> d = limits.read_deployment(id);
    if (!d) throw Error(ErrorKind::kNotFound, "deployment " + id + " not found");
    std::vector<Lease> leases;
    if (d->concurrency_limit_id) leases = limits.leases_for_limit(*d->concurrency_limit_id);
    if (f->json) {
      Json out = deployment_to_json(limits, *d);
      Json list = Json::array();
      for (const auto& lease : leases) list.push_back(lease_to_json(lease, now));
      out["leases"] = list;
      print_json(out);
      return;
    }
    const Json j = deployment_to_json(limits, *d);
    std::cout << "id:                  " << d->id << "\nname:                " << printable(d->name)
              << "\nflow:                "
              << (j["flow_name"].is_string() ? printable(j["flow_name"].get<std::string>()) : "-")
              << "\nconcurrency limit:   ";
    if (j["global_concurrency_limit"].is_null()) {
      std::cout << "none\n";
    } else {
      const Json& l = j["global_concurrency_limit"];
      std::cout << l["limit"] << " (" << l["active_slots"] << " taken"
                << (l["active"].get<bool>() ? "" : ", inactive") << "; global-limit "
                << printable(l["name"].get<std::string>()) << ")\n";
    }
    std::cout << "collision strategy:  "
              << (d->concurrency_options
                      ? std::string(strategy_name(d->concurrency_options->collision_strategy))
                      : std::string("ENQUEUE (no options)"))
              << "\ngrace period:        ";
    if (d->concurrency_options && d->concurrency_options->grace_period_seconds)
      std::cout << *d->concurrency_options->grace_period_seconds << " s\n";
    else
      std::cout << "the server setting\n";
    if (!d->concurrency_limit_id) return;
    std::cout << "leases:\n";
    if (leases.empty()) std::cout << "  (none)\n";
    for (const auto& lease : leases) {
      std::cout << "  " << lease.id << "  run "
                << printable(lease.holder ? lease.holder->id : lease.origin_run_id.value_or("?"))
                << "  expires " << format_timestamp(lease.expiration)
                << (lease.expiration < now ? "  [expired]" : "") << '\n';
    }
    if (!leases.empty()) std::cout << "free one: runctl lease release LEASE_ID\n";
  });
}

}  // namespace runctl::cli
