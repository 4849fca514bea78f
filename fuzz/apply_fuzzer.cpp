// Fuzzes `runctl apply`'s JSON Lines reader end to end, in-process: each input is written as the
// apply file and run against a fresh copy of a small database (a flow run and a task run with
// fixed ids, so inputs can name them). Whatever the lines hold, runctl must answer with per-line
// results and an exit code, never crash, hang, or fail with an internal error (74).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int runctl_main(int argc, char** argv);  // cli/main.cpp, renamed by fuzz/CMakeLists.txt

namespace {

constexpr const char* kFlowRun = "11111111-1111-4111-8111-111111111111";
constexpr const char* kTaskRun = "22222222-2222-4222-8222-222222222222";

std::string g_dir, g_db, g_input, g_template;

int run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return runctl_main(static_cast<int>(args.size()), argv.data());
}

void write_file(const std::string& path, const char* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char pattern[] = "/tmp/runctl_fuzz_apply_XXXXXX";
  if (!::mkdtemp(pattern)) std::abort();
  g_dir = pattern;
  g_db = g_dir + "/runs.db";
  g_input = g_dir + "/in.jsonl";
  // Results go to stdout; the fuzzer's own report goes to stderr.
  const int null_fd = ::open("/dev/null", O_WRONLY);
  ::dup2(null_fd, STDOUT_FILENO);
  const std::string base = g_dir + "/template.db";
  if (run({"runctl", "--db", base, "init"}) != 0 ||
      run({"runctl", "--db", base, "--now", "2026-01-01T00:00:00Z", "flow-run", "create", "--id",
           kFlowRun, "--state", "PENDING"}) != 0 ||
      run({"runctl", "--db", base, "--now", "2026-01-01T00:00:00Z", "task-run", "create", "--id",
           kTaskRun, "--flow-run", kFlowRun, "--state", "PENDING"}) != 0)
    std::abort();
  // Fold the WAL into the file, so one file is the whole template.
  sqlite3* db = nullptr;
  sqlite3_open(base.c_str(), &db);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::ifstream in(base, std::ios::binary);
  g_template.assign(std::istreambuf_iterator<char>(in), {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  write_file(g_db, g_template.data(), g_template.size());
  std::remove((g_db + "-wal").c_str());
  std::remove((g_db + "-shm").c_str());
  write_file(g_input, reinterpret_cast<const char*>(data), size);
  const int code = run({"runctl", "--db", g_db, "--now", "2026-01-01T00:00:10Z", "--seed", "1",
                        "apply", "--json", g_input});
  // 0-3: statuses; 65/66: bad or unknown lines; 70: a hook raised. 74 is an internal error (an
  // exception nobody mapped): a bug worth a crash report.
  if (code == 74) __builtin_trap();
  return 0;
}
