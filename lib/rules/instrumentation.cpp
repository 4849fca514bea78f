// InstrumentFlowRunStateTransitions (spec §5.I1): every flow-run state that is written (accepted,
// or a rejection's replacement) becomes one event in the events table, shaped as Prefect's
// `prefect.flow-run.<state name>` event. runctl writes it in the transition's transaction, so a
// rolled-back transition emits nothing.
#include <set>

#include "engine/concurrency.hpp"
#include "rules/families.hpp"

namespace runctl {
namespace {

// Prefect's TRUNCATE_STATE_MESSAGES_AT.
constexpr std::size_t kMessageLimit = 100'000;
// Events closer than this to the previous state's record which one they follow.
constexpr Timestamp kTightTiming = 5 * 60 * kMicrosPerSecond;

// Prefect's state_payload(): the string essentials of a state. `message` is the state's message
// after the transform's own truncation; state_payload truncates it once more.
Json state_payload(const State& s, const std::string& message) {
  Json out{{"type", type_name(s.type)}};
  if (!s.name.empty()) out["name"] = s.name;
  if (!message.empty()) out["message"] = truncated_to(kMessageLimit, message);
  if (s.type == StateType::kPaused)
    out["pause_reschedule"] = s.details->pause_reschedule ? "true" : "false";
  return out;
}

Json related_resource(const std::string& kind, const std::string& id, const std::string& name) {
  return Json{{"prefect.resource.id", "prefect." + kind + "." + id},
              {"prefect.resource.role", kind},
              {"prefect.resource.name", name}};
}

// Prefect's related resources: the flow, deployment and parent task run that exist, in that
// order, then one resource per distinct tag of all of them and of the flow run, sorted.
// runctl has no work queues or pools, and no created_by, so those never appear.
Json related_resources(const Run& run, ConcurrencyServices& cs) {
  Json related = Json::array();
  std::set<std::string> tags(run.tags.begin(), run.tags.end());
  std::optional<Deployment> deployment;
  if (run.deployment_id) deployment = cs.read_deployment(*run.deployment_id);
  // runctl's flow-run create takes no flow; a deployment's run belongs to the deployment's flow,
  // as a run Prefect creates from a deployment does.
  std::optional<std::string> flow_id = run.flow_id;
  if (!flow_id && deployment) flow_id = deployment->flow_id;
  if (flow_id) {
    if (auto flow = cs.read_flow(*flow_id)) {
      related.push_back(related_resource("flow", flow->id, flow->name));
      tags.insert(flow->tags.begin(), flow->tags.end());
    }
  }
  if (deployment) {
    related.push_back(related_resource("deployment", deployment->id, deployment->name));
    tags.insert(deployment->tags.begin(), deployment->tags.end());
  }
  if (run.parent_task_run_id) {
    if (auto task_run = cs.read_task_run(*run.parent_task_run_id)) {
      related.push_back(related_resource("task-run", task_run->id, task_run->name));
      tags.insert(task_run->tags.begin(), task_run->tags.end());
    }
  }
  // std::set orders UTF-8 bytewise, which is Python's code-point order.
  for (const auto& tag : tags)
    related.push_back(
        Json{{"prefect.resource.id", "prefect.tag." + tag}, {"prefect.resource.role", "tag"}});
  return related;
}

class InstrumentFlowRunStateTransitions final : public Transform {
 public:
  InstrumentFlowRunStateTransitions()
      : Transform({"InstrumentFlowRunStateTransitions",
                   {},
                   {},
                   "a written flow-run state emits a prefect.flow-run.<name> event (runctl "
                   "events)"}) {}

  void after_transition(Context& c) const override {
    if (!c.proposed_state || !c.validated_state) return;
    if (c.kind != RunKind::kFlow) return;  // flow contexts only
    ConcurrencyServices* cs = c.services ? c.services->concurrency() : nullptr;
    if (!cs) return;
    const State& validated = *c.validated_state;
    const Run& run = *c.run;

    // The transform truncates both messages before building the event, which truncates them
    // again; a message cut once can be cut a second time, as in Prefect.
    const std::string validated_message = truncated_to(kMessageLimit, validated.message);
    Event e;
    e.id = validated.id;
    e.occurred = validated.timestamp;
    e.event = "prefect.flow-run." + validated.name;
    e.resource = Json{{"prefect.resource.id", "prefect.flow-run." + run.id},
                      {"prefect.resource.name", run.name},
                      {"prefect.run-count", std::to_string(run.run_count)},
                      {"prefect.state-message", truncated_to(kMessageLimit, validated_message)},
                      {"prefect.state-name", validated.name},
                      {"prefect.state-timestamp", python_isoformat(validated.timestamp)},
                      {"prefect.state-type", type_name(validated.type)}};
    e.related = related_resources(run, *cs);
    Json initial_payload;  // null without an initial state
    if (c.initial_state)
      initial_payload =
          state_payload(*c.initial_state, truncated_to(kMessageLimit, c.initial_state->message));
    e.payload = Json{{"intended",
                      {{"from", c.initial_state ? Json(type_name(c.initial_state->type)) : Json()},
                       {"to", type_name(validated.type)}}},
                     {"initial_state", initial_payload},
                     {"validated_state", state_payload(validated, validated_message)}};
    if (c.initial_state) {
      const Timestamp gap = e.occurred - c.initial_state->timestamp;
      if (-kTightTiming < gap && gap < kTightTiming) e.follows = c.initial_state->id;
    }
    cs->emit_event(e);
  }
};

}  // namespace

void add_instrumentation_transforms(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_transform<InstrumentFlowRunStateTransitions>(RunScope::kFlow));
}

}  // namespace runctl
