// Times whole processes, the way a user waits for them: fork, exec, wait. Each line of the
// command file is one run (arguments separated by spaces, no quoting); every run's wall time and
// peak RSS (wait4's ru_maxrss) go into one summary line:
//   runs=30 failed=0 median_ms=1.234 mean_ms=... p90_ms=... min_ms=... max_ms=...
//   median_cpu_ms=... median_rss_kb=... max_rss_kb=...
// Usage: runctl_proc_bench [--stdin FILE] [--ok-codes 0,1,2] COMMAND_FILE
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Sample {
  double wall_ms;
  double cpu_ms;  // user + system: what the machine's other load does not inflate
  long max_rss_kb;
  int exit_code;
};

Sample run_once(const std::vector<std::string>& argv, const std::string& stdin_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    const int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    const int out = ::open("/dev/null", O_WRONLY);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) < 0) {
    std::perror("wait4");
    std::exit(2);
  }
  const auto end = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(end - start).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const auto tv_ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  return {ms, tv_ms(usage.ru_utime) + tv_ms(usage.ru_stime), usage.ru_maxrss, code};
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  const double pos = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

int main(int argc, char** argv) {
  std::string stdin_path, command_file;
  std::set<int> ok_codes{0};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--stdin" && i + 1 < argc) {
      stdin_path = argv[++i];
    } else if (a == "--ok-codes" && i + 1 < argc) {
      ok_codes.clear();
      std::stringstream list(argv[++i]);
      for (std::string code; std::getline(list, code, ',');) ok_codes.insert(std::stoi(code));
    } else {
      command_file = a;
    }
  }
  if (command_file.empty()) {
    std::fprintf(stderr, "usage: %s [--stdin FILE] [--ok-codes 0,1] COMMAND_FILE\n", argv[0]);
    return 2;
  }
  std::ifstream in(command_file);
  std::vector<Sample> samples;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> args;
    std::stringstream words(line);
    for (std::string w; words >> w;) args.push_back(w);
    if (!args.empty()) samples.push_back(run_once(args, stdin_path));
  }
  std::vector<double> wall, cpu, rss;
  int failed = 0;
  for (const Sample& s : samples) {
    wall.push_back(s.wall_ms);
    cpu.push_back(s.cpu_ms);
    rss.push_back(static_cast<double>(s.max_rss_kb));
    if (!ok_codes.count(s.exit_code)) ++failed;
  }
  double mean = 0;
  for (double w : wall) mean += w;
  if (!wall.empty()) mean /= static_cast<double>(wall.size());
  std::printf(
      "runs=%zu failed=%d median_ms=%.3f mean_ms=%.3f p90_ms=%.3f min_ms=%.3f max_ms=%.3f "
      "median_cpu_ms=%.3f median_rss_kb=%.0f max_rss_kb=%.0f\n",
      samples.size(), failed, percentile(wall, 0.5), mean, percentile(wall, 0.9),
      percentile(wall, 0), percentile(wall, 1), percentile(cpu, 0.5), percentile(rss, 0.5),
      percentile(rss, 1));
  return failed ? 1 : 0;
}
