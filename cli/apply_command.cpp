// apply: transitions in bulk from JSON Lines, one result per line (docs/apply.md).
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/exit_codes.hpp"
#include "cli/invocation.hpp"
#include "cli/render.hpp"
#include "cli/transition_json.hpp"
#include "engine/state_text.hpp"
#include "service/batch.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace runctl::cli {
namespace {

[[noreturn]] void bad_line(const std::string& what) {
  throw Error(ErrorKind::kBadData, what);
}

std::string json_message(const std::exception& e) {
  std::string what = without_json_exception_tag(e.what());
  // The parser sees one input line at a time, so its "line 1" is always this line: the column
  // is what locates the problem ("line 7: not valid JSON: parse error at column 12: ...").
  constexpr std::string_view kLineOne = "at line 1, column ";
  if (auto pos = what.find(kLineOne); pos != std::string::npos)
    what.replace(pos, kLineOne.size(), "at column ");
  return what;
}

const Json* optional_member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> optional_string(const Json& object, const char* key,
                                           const std::string& where) {
  const Json* v = optional_member(object, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad_line(where + key + ": expected a string");
  // Names and messages go to TEXT columns: no NUL bytes, no megabyte names (util/text.hpp).
  const std::size_t limit = std::string_view(key) == "name" ? kMaxNameBytes : kMaxMessageBytes;
  if (auto problem = text_problem(v->get_ref<const std::string&>(), limit))
    bad_line(where + key + ": " + *problem);
  return v->get<std::string>();
}

void check_keys(const Json& object, std::initializer_list<std::string_view> allowed,
                const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    // A misspelt "force" silently ignored would run the wrong policy: unknown keys are errors.
    if (!known) bad_line(where + "unknown key \"" + key + "\"");
  }
}

// One input line → a request, with set-state's checks and messages. `run_id` is filled as soon
// as it is known, so an error result can still name the run.
TransitionRequest parse_request(const Json& j, std::optional<std::string>& run_id) {
  if (!j.is_object()) bad_line("expected a JSON object");
  TransitionRequest request;
  auto id = j.find("run_id");
  if (id == j.end() || !id->is_string()) bad_line("run_id: expected a run id (a UUID string)");
  request.run_id = parse_id(id->get<std::string>(), "run");
  run_id = request.run_id;
  check_keys(j, {"run_id", "state", "force", "params", "expect_state"}, "");

  auto state = j.find("state");
  if (state == j.end() || !state->is_object()) bad_line("state: expected an object");
  check_keys(*state, {"type", "name", "message", "state_details", "data"}, "state: ");
  auto type = state->find("type");
  if (type == state->end() || !type->is_string()) bad_line("state.type: expected a string");
  const auto parsed = parse_state_type(type->get<std::string>());
  if (!parsed) bad_line(unknown_state_type(type->get<std::string>()));
  request.proposal.type = *parsed;
  request.proposal.name = optional_string(*state, "name", "state.");
  request.proposal.message = optional_string(*state, "message", "state.");
  if (const Json* d = optional_member(*state, "state_details")) {
    check_state_details_keys(*d, "state.state_details");
    apply_state_details(*d, request.proposal.details, "state.state_details");
  }
  if (auto data = state->find("data"); data != state->end()) request.proposal.data = *data;

  if (const Json* force = optional_member(j, "force")) {
    if (!force->is_boolean()) bad_line("force: expected true or false");
    request.force = force->get<bool>();
  }
  if (const Json* params = optional_member(j, "params")) {
    if (!params->is_object()) bad_line("params: expected an object");
    request.parameters = *params;
  }
  // "RUNNING,PENDING" as --expect-state takes it, or ["RUNNING", "PENDING"].
  if (const Json* expected = optional_member(j, "expect_state")) {
    std::string list;
    if (expected->is_string()) {
      list = expected->get<std::string>();
    } else if (expected->is_array() && !expected->empty()) {
      for (const Json& item : *expected) {
        if (!item.is_string()) bad_line("expect_state: expected state type names");
        list += (list.empty() ? "" : ",") + item.get<std::string>();
      }
    } else {
      bad_line("expect_state: expected a state type, \"TYPE,TYPE\" or an array of types");
    }
    request.expected_state = parse_expected_state(list, "expect_state");
  }
  request.proposed_state_json = false;  // the output writes proposed_state_text
  return request;
}

// Reads lines from a file descriptor through one buffer: no iostreams, no per-line allocation
// beyond the line itself.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // Whether the next read() could block: the input is a pipe or terminal with nothing ready.
  bool would_block() const {
    if (pos_ < buffer_.size() || eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // The next line without its "\n" (and "\r"), or false at the end of the input.
  bool next(std::string& line) {
    line.clear();
    for (;;) {
      const auto newline = buffer_.find('\n', pos_);
      if (newline != std::string::npos) {
        line.append(buffer_, pos_, newline - pos_);
        pos_ = newline + 1;
        consumed_ += line.size() + 1;
        break;
      }
      line.append(buffer_, pos_, std::string::npos);
      buffer_.clear();
      pos_ = 0;
      if (eof_ || !fill()) {
        if (line.empty()) return false;
        consumed_ += line.size();
        break;
      }
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

  std::uint64_t consumed() const { return consumed_; }

 private:
  bool fill() {
    buffer_.resize(1 << 16);
    for (;;) {
      const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        throw Error(ErrorKind::kIo,
                    std::string("apply: cannot read input: ") + std::strerror(errno));
      buffer_.resize(static_cast<std::size_t>(n));
      if (n == 0) eof_ = true;
      return n > 0;
    }
  }

  int fd_;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::uint64_t consumed_ = 0;
};

// stdout through one buffer written with write(2): thousands of results per second must not
// pay a flush (or an iostream sentry) each.
class Output {
 public:
  ~Output() {
    try {
      flush();
    } catch (...) {
      // Reported by the explicit flush() at the end of a normal run.
    }
  }
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= (1 << 16)) flush();
  }
  void flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(STDOUT_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        buffer_.clear();
        throw Error(ErrorKind::kIo,
                    std::string("apply: cannot write results: ") + std::strerror(errno));
      }
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

 private:
  std::string buffer_;
};

int outcome_exit_code(const BatchOutcome& o) {
  return o.result ? exit_code_for(*o.result) : exit_code_for(o.error->kind());
}

// The set-state --json object with "line" in front; an error: line, run_id, error, exit_code.
void write_json(std::string& out, const BatchOutcome& o, SignatureTexts& signatures) {
  out += "{\"line\":";
  out += std::to_string(o.line);
  if (o.result) {
    out.push_back(',');
    append_transition_members(out, *o.result, signatures);
    if (!o.result->trace.empty()) {  // --verbose
      out += ",\"trace\":";
      append_json(out, trace_to_json(o.result->trace));
    }
    out.push_back('}');
  } else {
    out += ",\"run_id\":";
    if (o.run_id)
      append_json_string(out, *o.run_id);
    else
      out += "null";
    out += ",\"error\":";
    append_json_string(out, o.error->what());
    out += ",\"exit_code\":";
    out += std::to_string(outcome_exit_code(o));
    out.push_back('}');
  }
  out.push_back('\n');
}

void write_text(std::string& out, const BatchOutcome& o) {
  out += "line " + std::to_string(o.line) + ": ";
  if (!o.result) {
    out += "error (exit " + std::to_string(outcome_exit_code(o)) + "): ";
    out += printable(o.error->what());
    out.push_back('\n');
    return;
  }
  const TransitionResult& r = *o.result;
  if (r.error) {
    out += "error (exit " + std::to_string(outcome_exit_code(o)) + "): " + r.run_id +
           ": a hook raised, nothing written: " + printable(*r.error) + '\n';
    return;
  }
  out += std::string(status_name(r.status)) + "  " + r.run_id + "  " + describe(r.initial_state) +
         " -> " + describe(r.validated_state);
  if (r.details.reason) out += "  (" + printable(*r.details.reason) + ")";
  out.push_back('\n');
}

// "apply: line 1200 (37%)" on a terminal, at most four times a second.
class Progress {
 public:
  Progress(bool on, std::uint64_t total_bytes) : on_(on), total_(total_bytes) {}
  void update(std::size_t line, std::uint64_t consumed) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const int percent = total_ ? static_cast<int>(consumed * 100 / total_) : 100;
    std::fprintf(stderr, "\rrunctl: apply: line %zu (%d%%)", line, percent);
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool on_;
  std::uint64_t total_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

void add_apply_command(CLI::App& cli, Invocation& invocation) {
  struct Flags {
    std::string input = "-";
    std::optional<std::string> policy;
    int commit_every = 1;
    bool json = false, dry_run = false, verbose = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = cli.add_subcommand(
      "apply",
      "apply transitions in bulk from JSON Lines, one request per line:\n"
      "  {\"run_id\": ID, \"state\": {\"type\", \"name\"?, \"message\"?, \"state_details\"?, "
      "\"data\"?}, \"force\"?: bool, \"params\"?: {...}}\n"
      "and print one result per line (set-state's, plus \"line\"). Each transition is atomic.\n"
      "Exit code: the worst (largest) of the lines' exit codes, 0 for no lines; the input's own\n"
      "problems (malformed JSON, unknown run, bad state) are per line: 65, 66.");
  cmd->add_option("FILE", flags->input, "JSON Lines file, or - for stdin (the default)");
  cmd->add_option("--policy", flags->policy,
                  "built-in policy name/alias or a policy file, for every line (default: each run "
                  "kind's core policy; \"force\": true lines use the minimal policy)");
  cmd->add_option("--commit-every", flags->commit_every,
                  "transitions per commit; a failing one still rolls back alone (default 1: one "
                  "commit per transition)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--json", flags->json, "print one JSON object per line (set-state --json's)");
  cmd->add_flag("--dry-run", flags->dry_run,
                "decide every line, write nothing: each group of --commit-every lines is rolled "
                "back instead of committed, so a line sees the lines before it in its group only");
  cmd->add_flag("-v,--verbose", flags->verbose,
                "trace every step of each line's chain (in \"trace\" with --json, else on "
                "stderr)");

  cmd->callback([&invocation, flags] {
    const bool from_stdin = flags->input == "-";
    int fd = STDIN_FILENO;
    std::uint64_t total_bytes = 0;
    if (!from_stdin) {
      fd = ::open(flags->input.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        throw Error(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                    "apply: cannot open " + flags->input + ": " + std::strerror(errno));
      struct stat st {};
      if (::fstat(fd, &st) == 0) total_bytes = static_cast<std::uint64_t>(st.st_size);
    }
    struct Closer {
      int fd;
      ~Closer() {
        if (fd != STDIN_FILENO) ::close(fd);
      }
    } closer{fd};

    const Environment env = invocation.environment();
    const std::unique_ptr<Database> db = invocation.open_db(OpenMode::kWriteExisting);
    // A dry run writes nothing, not even the checkpoint a bulk run ends with.
    if (!flags->dry_run) db->prepare_for_bulk_writes(flags->commit_every);
    TransitionBatch batch(*db, env,
                          BatchOptions{flags->policy, flags->commit_every, flags->dry_run});
    LineReader reader(fd);
    Output output;
    SignatureTexts signatures;
    Progress progress(!from_stdin && ::isatty(STDERR_FILENO), total_bytes);
    int worst = exit_code::kAccept;

    auto report = [&] {
      for (const BatchOutcome& o : batch.take_settled()) {
        worst = std::max(worst, outcome_exit_code(o));
        if (flags->json) {
          write_json(output.buffer(), o, signatures);
        } else {
          if (o.result && flags->verbose) {
            std::cerr << "line " << o.line << ":\n";
            print_trace_text(std::cerr, o.result->trace);
          }
          write_text(output.buffer(), o);
        }
      }
      output.maybe_flush();
    };

    std::string text;
    std::size_t line = 0;
    for (;;) {
      if (reader.would_block()) {
        // The producer is pausing: never hold the write lock (or results) while waiting for it.
        batch.commit();
        report();
        output.flush();
      }
      if (!reader.next(text)) break;
      ++line;
      if (text.find_first_not_of(" \t") == std::string::npos) continue;  // blank: no result
      std::optional<std::string> run_id;
      std::optional<TransitionRequest> request;
      try {
        // A line nested 100,000 levels deep parses, then overflows the stack of whatever copies
        // it: refused before parsing.
        if (auto problem = json_depth_problem(text)) bad_line("not valid JSON: " + *problem);
        request = parse_request(Json::parse(text), run_id);
      } catch (const Json::exception& e) {
        batch.reject(line, run_id,
                     Error(ErrorKind::kBadData, "not valid JSON: " + json_message(e)));
      } catch (const Error& e) {
        batch.reject(line, run_id, e);
      }
      if (request) {
        request->trace = flags->verbose;
        batch.apply(line, std::move(*request));
      }
      report();
      progress.update(line, reader.consumed());
    }
    batch.commit();
    report();
    progress.done();
    output.flush();
    invocation.exit_code = worst;
  });
}

}  // namespace runctl::cli
