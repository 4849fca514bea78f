// What the hardening_*_test.cpp files share (issue 14): running runctl with an environment
// variable set or with stdout on a full device, and the one check every rejection gets.
#pragma once
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli_fixture.hpp"
#include "reliability/support.hpp"

namespace runctl::clitest {

// Sets an environment variable for the guard's lifetime (runctl inherits the test's environment).
class EnvGuard {
 public:
  EnvGuard(const char* name, const std::string& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvGuard() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Changes the test process's working directory (runctl's is inherited) for the guard's lifetime.
class CwdGuard {
 public:
  explicit CwdGuard(const std::string& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~CwdGuard() {
    std::error_code ec;
    std::filesystem::current_path(old_, ec);
  }
  CwdGuard(const CwdGuard&) = delete;
  CwdGuard& operator=(const CwdGuard&) = delete;

 private:
  std::filesystem::path old_;
};

// A file of the source tree (README.md, docs/cli.md, ...), for the tests that hold the docs to
// the binary.
inline std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(RUNCTL_SCENARIO_DIR) + "/../../../" + relative);
  REQUIRE_MESSAGE(in, "cannot read " << relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// runctl ARGS... (no --db added).
inline ProcessResult runctl(std::vector<std::string> args) {
  args.insert(args.begin(), runctl_binary());
  return run_process(args);
}

// runctl --db DB ARGS... with stdout on /dev/full (every write fails with ENOSPC); stderr is
// captured in `err`, `out` stays empty.
inline ProcessResult run_to_dev_full(const CliDb& db, const std::vector<std::string>& args) {
  std::vector<std::string> argv{runctl_binary(), "--db", db.path()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (const std::string& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  int err_pipe[2];
  REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int full = ::open("/dev/full", O_WRONLY);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (full < 0 || null_in < 0 || ::dup2(null_in, 0) < 0 || ::dup2(full, 1) < 0 ||
        ::dup2(err_pipe[1], 2) < 0)
      ::_exit(127);
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  ::close(err_pipe[1]);
  ProcessResult r;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(err_pipe[0], buffer, sizeof buffer);
    if (n > 0) {
      r.err.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// The one-line rejection every hardening case checks: this exit code, exactly this stderr line,
// nothing on stdout.
inline void check_rejected(const ProcessResult& r, int code, const std::string& line) {
  INFO("exit " << r.exit_code << "\nstderr: " << r.err << "\nstdout: " << r.out.substr(0, 300));
  CHECK(r.exit_code == code);
  CHECK(r.err == line + "\n");
  CHECK(r.out.empty());
}

// What "nothing written" compares is CliDb::snapshot(): on SQLite the main file, its WAL and any
// journal byte for byte (docs/reliability.md); on PostgreSQL every row of the test's schema.

// The snapshot to compare an `apply` against. apply folds the WAL into the main file when it ends
// (a TRUNCATE checkpoint: the same data, other bytes), so an apply of no lines folds it first and a
// runctl read leaves the WAL file as runctl keeps it; a line that wrote would still change the
// files. On PostgreSQL both are no-ops: the rows are what is compared.
inline std::string apply_baseline(const CliDb& db) {
  REQUIRE(db.run({"apply"}, "").exit_code == 0);
  REQUIRE(db.run({"task-queue", "list"}).exit_code == 0);
  return db.snapshot();
}

// The same, with the database compared against `before`: nothing was written.
inline void check_rejected(const CliDb& db, const std::string& before, const ProcessResult& r,
                           int code, const std::string& line) {
  check_rejected(r, code, line);
  CHECK_MESSAGE(db.snapshot() == before, "the database changed");
}

}  // namespace runctl::clitest
