// PostgreSQL for the CLI tests: the server RUNCTL_TEST_PG names (scripts/with-postgres.sh starts
// a throwaway one), a schema of its own for each test (pg_schema.hpp), psql for reading behind
// runctl's back, and private clusters for the tests that stop a server or need passwords.
#pragma once
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_fixture.hpp"
#include "pg_schema.hpp"

namespace runctl::clitest::pgtest {

#define RUNCTL_PG_SERVER_OR_SKIP(var)                                                     \
  const std::optional<std::string> var = ::runctl::clitest::pgtest::test_server();        \
  if (!var) {                                                                             \
    MESSAGE("skipped: RUNCTL_TEST_PG is not set (scripts/with-postgres.sh CMD sets it)"); \
    return;                                                                               \
  }

inline std::string psql_value(const std::string& url, const std::string& sql) {
  const ProcessResult r = psql(url, sql);
  INFO("psql: " << sql << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline std::int64_t psql_count(const std::string& url, const std::string& sql) {
  const std::string v = psql_value(url, sql);
  return v.empty() ? 0 : std::stoll(v);
}

inline std::vector<std::string> psql_lines(const std::string& url, const std::string& sql) {
  const std::string v = psql_value(url, sql);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < v.size()) {
    std::size_t nl = v.find('\n', start);
    if (nl == std::string::npos) nl = v.size();
    out.push_back(v.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// A runctl database of its own on a server: a fresh schema, dropped at the end, which runctl
// reaches through the URI's search_path.
class PgDb {
 public:
  explicit PgDb(const std::string& server) : schema_(server), dir_(make_temp_dir()) {}
  ~PgDb() { remove_tree(dir_); }
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  const std::string& url() const { return schema_.url(); }
  const std::string& dir() const { return dir_; }

  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> out{runctl_binary(), "--db", url()};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
  ProcessResult run(const std::vector<std::string>& args,
                    const std::string& stdin_data = "") const {
    return run_process(argv(args), stdin_data);
  }
  // A command that must print one JSON value and exit as expected (any 0-3 when -1).
  Json json(std::vector<std::string> args, int expected_exit = 0) const {
    args.push_back("--json");
    const ProcessResult r = run(args);
    INFO("runctl " << CliDb::join(args) << "\nstderr: " << r.err << "\nstdout: " << r.out);
    if (expected_exit >= 0)
      REQUIRE(r.exit_code == expected_exit);
    else
      REQUIRE((r.exit_code >= 0 && r.exit_code <= 3));
    return Json::parse(r.out);
  }
  std::string create(const std::string& kind, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{kind + "-run", "create"};
    args.insert(args.end(), extra.begin(), extra.end());
    return json(args)["id"].get<std::string>();
  }

  std::string value(const std::string& sql) const { return psql_value(url(), sql); }
  std::int64_t count(const std::string& sql) const { return psql_count(url(), sql); }
  std::vector<std::string> lines(const std::string& sql) const { return psql_lines(url(), sql); }

 private:
  TestSchema schema_;
  std::string dir_;
};

// Runs argv as the cluster owner: `postgres` under root (PostgreSQL refuses root).
inline std::vector<std::string> as_owner(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::string runuser =
      std::filesystem::exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";
  std::vector<std::string> out{runuser, "-u", "postgres", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// A cluster of the test's own, on a unix socket in a temporary directory, for the tests that
// stop a server or log in with a password.
class PrivateCluster {
 public:
  // `password`: when set, every connection must give it (scram-sha-256); else trust.
  explicit PrivateCluster(const std::string& password = "") : dir_(make_temp_dir()) {
    bin_ = pg_bin_dir();
    owner_ = ::geteuid() == 0 ? "postgres" : ::getpwuid(::geteuid())->pw_name;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "no postgres user to run the server as";
        return;
      }
    }
    if (bin_.empty()) {
      error_ = "no /usr/lib/postgresql/*/bin/initdb";
      return;
    }
    std::vector<std::string> initdb{bin_ + "/initdb", "-D", dir_ + "/data", "-U",
                                    owner_,           "-E", "UTF8",         "--locale=C.UTF-8"};
    if (password.empty()) {
      initdb.push_back("-A");
      initdb.push_back("trust");
    } else {
      const std::string pwfile = dir_ + "/pw";
      std::ofstream(pwfile) << password << '\n';
      if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        [[maybe_unused]] int ignored = ::chown(pwfile.c_str(), pw->pw_uid, pw->pw_gid);
      }
      initdb.insert(initdb.end(), {"-A", "scram-sha-256", "--pwfile=" + pwfile});
    }
    const ProcessResult r = run_process(as_owner(initdb));
    if (r.exit_code != 0) error_ = "initdb failed: " + r.err;
  }
  ~PrivateCluster() {
    stop("immediate");
    remove_tree(dir_);
  }
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  // Why the cluster cannot be used, or "".
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  const std::string& owner() const { return owner_; }
  // postgresql:///postgres?host=DIR&user=OWNER
  std::string url() const { return "postgresql:///postgres?host=" + dir_ + "&user=" + owner_; }

  bool start() {
    const ProcessResult r = run_process(
        as_owner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t",
                  "60", "start", "-o",
                  "-c listen_addresses= -k " + dir_ + " -c fsync=off -c synchronous_commit=off"}));
    running_ = r.exit_code == 0;
    if (!running_) error_ = "pg_ctl start failed: " + r.out + r.err;
    return running_;
  }
  void stop(const std::string& mode = "fast") {
    if (!running_) return;
    run_process(as_owner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", mode, "-w", "stop"}));
    running_ = false;
  }

 private:
  std::string dir_, bin_, owner_, error_;
  bool running_ = false;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
inline int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// Waits until `path` exists: a psql script's `\! touch` handshake.
inline bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace runctl::clitest::pgtest
