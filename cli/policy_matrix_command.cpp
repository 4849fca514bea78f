// policy matrix, policy diff: what a policy decides for every pair of states, as a picture.
#include <iostream>
#include <sstream>

#include "cli/picture.hpp"
#include "cli/policy_matrix_command.hpp"
#include "cli/policy_matrix_render.hpp"
#include "cli/seed_option.hpp"
#include "service/policy_matrix.hpp"
#include "store/reference.hpp"
#include "util/error.hpp"

namespace runctl::cli {
namespace {

struct MatrixFlags {
  std::string a, b;
  std::string kind = "flow";
  std::optional<std::string> run;
  std::string format = "text";
  bool json = false;  // --json, as every other command spells --format json
};

// Which run the matrix is of, and its kind: the stored run's when --run names one, else
// --run-kind, else the policy's own kind, else flow.
MatrixRequest make_request(Invocation& invocation, const MatrixFlags& flags, bool kind_given,
                           const std::optional<RunKind>& policy_kind) {
  MatrixRequest request;
  request.kind = flags.kind == "task" ? RunKind::kTask : RunKind::kFlow;
  if (!kind_given && policy_kind) request.kind = *policy_kind;
  request.now = invocation.clock().now();
  // Without --seed every cell still draws the same numbers, so the rows agree with each other.
  request.seed = seed_option(invocation.options).value_or(static_cast<std::uint64_t>(request.now));
  request.settings = invocation.environment().settings;
  if (flags.run) {
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kRead);
    const std::string id = resolve_reference(*db, Referent::kRun, *flags.run);
    std::optional<Run> run = db->runs().find_run(id);
    if (!run) throw Error(ErrorKind::kNotFound, "run " + id + " not found");
    if (kind_given && run->kind != request.kind)
      throw Error(ErrorKind::kUsage, "--run-kind " + flags.kind + ": run " + id + " is a " +
                                         std::string(kind_name(run->kind)) + " run");
    request.kind = run->kind;
    if (run->kind == RunKind::kTask && run->flow_run_id)
      if (std::optional<Run> flow = db->runs().load_run(RunKind::kFlow, *run->flow_run_id)) {
        StatePtr state = db->runs().load_current_state(*flow);
        request.flow_run = RunSnapshot{std::move(*flow), std::move(state)};
      }
    request.run = std::move(*run);
  }
  return request;
}

using MatrixPrinter = void (*)(std::ostream&, const PolicyMatrix&);
using DiffPrinter = void (*)(std::ostream&, const PolicyMatrix&, const PolicyMatrix&,
                             const std::vector<CellDiff>&);

// JSON goes through print_json (pretty on a terminal, as every command's); SVG through Graphviz.
void matrix_json(std::ostream&, const PolicyMatrix& m) {
  print_json(matrix_to_json(m));
}
void diff_json(std::ostream&, const PolicyMatrix& a, const PolicyMatrix& b,
               const std::vector<CellDiff>& d) {
  print_json(diff_to_json(a, b, d));
}
void matrix_svg(std::ostream&, const PolicyMatrix& m) {
  std::ostringstream dot;
  print_matrix_dot(dot, m);
  print_svg(dot.str());
}
void diff_svg(std::ostream&, const PolicyMatrix& a, const PolicyMatrix& b,
              const std::vector<CellDiff>& d) {
  std::ostringstream dot;
  print_diff_dot(dot, a, b, d);
  print_svg(dot.str());
}

struct Format {
  std::string_view name;
  MatrixPrinter matrix;
  DiffPrinter diff;
};

constexpr Format kFormats[] = {
    {"text", print_matrix_text, print_diff_text},
    {"json", matrix_json, diff_json},
    {"mermaid", print_matrix_mermaid, print_diff_mermaid},
    {"dot", print_matrix_dot, print_diff_dot},
    {"svg", matrix_svg, diff_svg},
};

// --format was checked against kFormats' names; --json stands for json.
const Format& format_of(const MatrixFlags& flags) {
  const std::string_view name = flags.json ? "json" : std::string_view(flags.format);
  for (const Format& f : kFormats)
    if (f.name == name) return f;
  return kFormats[0];
}

void add_format_option(CLI::App* cmd, MatrixFlags& flags) {
  cmd->add_option("--run-kind", flags.kind,
                  "flow or task (default: the policy's own kind, else flow; --run: the run's)")
      ->check(CLI::IsMember({"flow", "task"}));
  cmd->add_option("--run", flags.run,
                  "use this stored run's fields (retries, pause keys, ...), its state replaced "
                  "per row; default: a run as create makes it with no options");
  cmd->add_option("--format", flags.format, "text, json, mermaid, dot or svg (needs Graphviz)")
      ->check(CLI::IsMember({"text", "json", "mermaid", "dot", "svg"}));
  cmd->add_flag("--json", flags.json, "the same as --format json");
}

}  // namespace

void add_policy_matrix_commands(CLI::App* policy, Invocation& invocation) {
  auto flags = std::make_shared<MatrixFlags>();
  CLI::App* matrix = policy->add_subcommand(
      "matrix", "what a policy decides for every current state and proposed type");
  matrix->add_option("POLICY", flags->a, "built-in policy name/alias, or a policy file")
      ->required();
  add_format_option(matrix, *flags);
  matrix->callback([&invocation, flags, matrix] {
    const bool kind_given = matrix->count("--run-kind") > 0;
    const Policy p = resolve_policy(flags->a);
    const PolicyMatrix m =
        compute_policy_matrix(p, make_request(invocation, *flags, kind_given, p.kind));
    format_of(*flags).matrix(std::cout, m);
  });

  auto diff_flags = std::make_shared<MatrixFlags>();
  CLI::App* diff = policy->add_subcommand("diff", "the cells two policies decide differently");
  diff->add_option("A", diff_flags->a, "built-in policy name/alias, or a policy file")->required();
  diff->add_option("B", diff_flags->b, "built-in policy name/alias, or a policy file")->required();
  add_format_option(diff, *diff_flags);
  diff->callback([&invocation, diff_flags, diff] {
    const bool kind_given = diff->count("--run-kind") > 0;
    const Policy pa = resolve_policy(diff_flags->a);
    const Policy pb = resolve_policy(diff_flags->b);
    const MatrixRequest request =
        make_request(invocation, *diff_flags, kind_given, pa.kind ? pa.kind : pb.kind);
    const PolicyMatrix a = compute_policy_matrix(pa, request);
    const PolicyMatrix b = compute_policy_matrix(pb, request);
    const std::vector<CellDiff> cells = diff_matrices(a, b);
    format_of(*diff_flags).diff(std::cout, a, b, cells);
  });
}

}  // namespace runctl::cli
