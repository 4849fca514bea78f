// InstrumentFlowRunStateTransitions (prefect.server.orchestration.instrumentation_policies): every
// flow-run state that is written (accepted, or a rejection's replacement) becomes one event, stored
// with the transition's log row, shaped as Prefect's `prefect.flow-run.<state name>` event. runctl
// writes it in the transition's transaction, so a rolled-back transition emits nothing.
#include <set>
#include <string>
#include <string_view>

#include "engine/concurrency.hpp"
#include "engine/state_text.hpp"
#include "rules/families.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace runctl {
namespace {

// Prefect's TRUNCATE_STATE_MESSAGES_AT.
constexpr std::size_t kMessageLimit = 100'000;
// Events closer than this to the previous state's record which one they follow.
constexpr Timestamp kTightTiming = 5 * 60 * kMicrosPerSecond;

// The event is written as JSON text straight away (the log row stores text): building
// nlohmann trees for it and printing them was a quarter of a flow-run transition's time. Every
// value in an event is a string, so a writer of string-valued objects is all it takes; the text
// is what Json::dump() printed for the same objects.
class ObjectText {
 public:
  explicit ObjectText(std::string& out) : out_(out) { out_.push_back('{'); }
  ~ObjectText() { out_.push_back('}'); }
  ObjectText(const ObjectText&) = delete;
  ObjectText& operator=(const ObjectText&) = delete;

  ObjectText& field(std::string_view key, std::string_view value) {
    append_key(key);
    append_json_string(out_, value);
    return *this;
  }
  // The key, then the caller appends the value.
  std::string& raw(std::string_view key) {
    append_key(key);
    return out_;
  }

 private:
  // Keys are literals of plain ASCII, which JSON holds as they are.
  void append_key(std::string_view key) {
    out_.append(first_ ? "\"" : ",\"", first_ ? 1 : 2).append(key).append("\":", 2);
    first_ = false;
  }

  std::string& out_;
  bool first_ = true;
};

// Prefect's state_payload(): the string essentials of a state. `message` is the state's message
// after the transform's own truncation; state_payload truncates it once more.
void append_state_payload(std::string& out, const State& s, const std::string& message) {
  ObjectText o(out);
  o.field("type", type_name(s.type));
  if (!s.name.empty()) o.field("name", s.name);
  if (!message.empty()) o.field("message", truncated_to(kMessageLimit, message));
  if (s.type == StateType::kPaused)
    o.field("pause_reschedule", s.details->pause_reschedule ? "true" : "false");
}

void append_related_resource(std::string& out, std::string_view kind, const std::string& id,
                             const std::string& name) {
  std::string resource_id = "prefect.";
  resource_id.append(kind).append(".").append(id);
  ObjectText(out)
      .field("prefect.resource.id", resource_id)
      .field("prefect.resource.role", kind)
      .field("prefect.resource.name", name);
}

// Prefect's related resources: the flow, deployment and parent task run that exist, in that
// order, then one resource per distinct tag of all of them and of the flow run, sorted.
// runctl has no work queues or pools, and no created_by, so those never appear.
std::string related_resources(const Run& run, ConcurrencyServices& cs) {
  std::string out = "[";
  const auto next = [&] {
    if (out.size() > 1) out.push_back(',');
  };
  std::set<std::string> tags(run.tags.begin(), run.tags.end());
  std::optional<Deployment> deployment;
  if (run.deployment_id) deployment = cs.read_deployment(*run.deployment_id);
  // runctl's flow-run create takes no flow; a deployment's run belongs to the deployment's flow,
  // as a run Prefect creates from a deployment does.
  std::optional<std::string> flow_id = run.flow_id;
  if (!flow_id && deployment) flow_id = deployment->flow_id;
  if (flow_id) {
    if (auto flow = cs.read_flow(*flow_id)) {
      next();
      append_related_resource(out, "flow", flow->id, flow->name);
      tags.insert(flow->tags.begin(), flow->tags.end());
    }
  }
  if (deployment) {
    next();
    append_related_resource(out, "deployment", deployment->id, deployment->name);
    tags.insert(deployment->tags.begin(), deployment->tags.end());
  }
  if (run.parent_task_run_id) {
    if (auto task_run = cs.read_task_run(*run.parent_task_run_id)) {
      next();
      append_related_resource(out, "task-run", task_run->id, task_run->name);
      tags.insert(task_run->tags.begin(), task_run->tags.end());
    }
  }
  // std::set orders UTF-8 bytewise, which is Python's code-point order.
  for (const auto& tag : tags) {
    next();
    ObjectText(out)
        .field("prefect.resource.id", "prefect.tag." + tag)
        .field("prefect.resource.role", "tag");
  }
  out.push_back(']');
  return out;
}

class InstrumentFlowRunStateTransitions final : public Transform {
 public:
  InstrumentFlowRunStateTransitions()
      : Transform({
            .name = "InstrumentFlowRunStateTransitions",
            .run_kind = RunScope::kFlow,
            .description = "a written flow-run state emits a prefect.flow-run.<name> event (runctl "
                           "events)",
        }) {}

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
    e.resource_id = "prefect.flow-run." + run.id;
    e.resource.clear();
    ObjectText(e.resource)
        .field("prefect.resource.id", e.resource_id)
        .field("prefect.resource.name", run.name)
        .field("prefect.run-count", std::to_string(run.run_count))
        .field("prefect.state-message", truncated_to(kMessageLimit, validated_message))
        .field("prefect.state-name", validated.name)
        .field("prefect.state-timestamp", python_isoformat(validated.timestamp))
        .field("prefect.state-type", type_name(validated.type));
    e.related = related_resources(run, *cs);
    e.payload.clear();
    {
      ObjectText payload(e.payload);
      {
        ObjectText intended(payload.raw("intended"));
        if (c.initial_state)
          intended.field("from", type_name(c.initial_state->type));
        else
          intended.raw("from") += "null";
        intended.field("to", type_name(validated.type));
      }
      std::string& initial = payload.raw("initial_state");
      if (c.initial_state)
        append_state_payload(initial, *c.initial_state,
                             truncated_to(kMessageLimit, c.initial_state->message));
      else
        initial += "null";
      append_state_payload(payload.raw("validated_state"), validated, validated_message);
    }
    if (c.initial_state) {
      const Timestamp gap = e.occurred - c.initial_state->timestamp;
      if (-kTightTiming < gap && gap < kTightTiming) e.follows = c.initial_state->id;
    }
    cs->emit_event(e);
  }
};

}  // namespace

void add_instrumentation_transforms(std::vector<BuiltinEntry>& out) {
  out.push_back(builtin_transform<InstrumentFlowRunStateTransitions>());
}

}  // namespace runctl
