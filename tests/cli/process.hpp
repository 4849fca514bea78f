// Running the built runctl binary from tests: fork/execv with stdin fed and stdout/stderr
// captured. No shell is involved, so arguments with quotes, spaces or unicode pass verbatim.
// Global names, inline: every CLI test file can include this header.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

// The runctl binary under test: RUNCTL_TEST_BIN when it is set (scripts/test-sanitize.sh points it
// at the sanitizer build's runctl, so this suite drives the instrumented binary without being
// rebuilt itself), else the one built beside these tests.
#ifdef RUNCTL_BIN  // the CLI tests (the unit tests use this header for psql and pg_ctl)
inline std::string runctl_binary() {
  const char* bin = std::getenv("RUNCTL_TEST_BIN");
  return bin && *bin ? std::string(bin) : std::string(RUNCTL_BIN);
}
#endif

struct ProcessResult {
  // The exit status; 128 + N when the child was killed by signal N (as a shell reports it).
  int exit_code = -1;
  std::string out, err;
};

namespace process_detail {

[[noreturn]] inline void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

inline void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace process_detail

// Runs argv[0] (a path; PATH is not searched) with argv, writes stdin_data to its stdin, and
// waits for it. Both output pipes and stdin are serviced with poll() so a child that writes a
// lot before reading its input (or vice versa) cannot deadlock against us.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 const std::string& stdin_data = "") {
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) process_detail::throw_errno("pipe");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) process_detail::throw_errno("pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) process_detail::throw_errno("pipe");

  // Built before fork: the child must not allocate (another thread may hold the malloc lock).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) process_detail::throw_errno("fork");
  if (pid == 0) {
    // dup2 clears O_CLOEXEC on the new descriptors; the originals close on exec.
    if (::dup2(in_pipe[0], 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_pipe[1], 2) < 0)
      ::_exit(127);
    ::execv(args[0], args.data());
    const char msg[] = "run_process: execv failed\n";
    [[maybe_unused]] auto ignored = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }

  int in_fd = in_pipe[1], out_fd = out_pipe[0], err_fd = err_pipe[0];
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (stdin_data.empty()) {
    process_detail::close_fd(in_fd);
  } else {
    // Non-blocking, so a large write returns what fits instead of waiting for a child that is
    // itself blocked writing to a stdout we are not reading yet.
    ::fcntl(in_fd, F_SETFL, ::fcntl(in_fd, F_GETFL) | O_NONBLOCK);
  }

  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  struct sigaction ignore_pipe = {};
  struct sigaction old_pipe = {};
  ignore_pipe.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore_pipe, &old_pipe);

  ProcessResult result;
  std::size_t written = 0;
  char buffer[65536];
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    nfds_t n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      process_detail::throw_errno("poll");
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        const ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w < 0 && errno != EINTR && errno != EAGAIN) {
          process_detail::close_fd(in_fd);  // EPIPE: the child closed its stdin; drop the rest
        } else if (w > 0) {
          written += static_cast<std::size_t>(w);
          if (written == stdin_data.size()) process_detail::close_fd(in_fd);
        }
        continue;
      }
      int& fd = fds[i].fd == out_fd ? out_fd : err_fd;
      std::string& sink = fds[i].fd == out_fd ? result.out : result.err;
      const ssize_t r = ::read(fd, buffer, sizeof buffer);
      if (r > 0) {
        sink.append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        process_detail::close_fd(fd);
      }
    }
  }
  ::sigaction(SIGPIPE, &old_pipe, nullptr);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) process_detail::throw_errno("waitpid");
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

// A fresh, private directory under /tmp (mkdtemp).
inline std::string make_temp_dir() {
  char pattern[] = "/tmp/runctl_test_XXXXXX";
  if (::mkdtemp(pattern) == nullptr) process_detail::throw_errno("mkdtemp");
  return pattern;
}

// Removes a file or directory and everything in it; a missing path is not an error.
inline void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}
