// stdout for every command but apply (which writes its own buffer with write(2)): std::cout goes
// through this buffer, which remembers why the first write failed, so main() can report a full
// disk or a closed pipe as exit 74 instead of exiting 0 with the output lost.
#pragma once
#include <streambuf>
#include <string>

namespace runctl::cli {

class StdoutBuffer final : public std::streambuf {
 public:
  StdoutBuffer();
  ~StdoutBuffer() override;
  StdoutBuffer(const StdoutBuffer&) = delete;
  StdoutBuffer& operator=(const StdoutBuffer&) = delete;

  // Writes out what is buffered. False once any write has failed.
  bool flush_all();
  // The errno of the first failed write, 0 when none failed.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* data, std::streamsize n) override;
  int sync() override;

 private:
  bool write_out(const char* data, std::size_t n);

  static constexpr std::size_t kSize = 1 << 16;
  char buffer_[kSize];
  int error_ = 0;
};

// Installs a StdoutBuffer as std::cout's buffer for the guard's lifetime.
class StdoutGuard {
 public:
  StdoutGuard();
  ~StdoutGuard();
  StdoutGuard(const StdoutGuard&) = delete;
  StdoutGuard& operator=(const StdoutGuard&) = delete;

  // Flushes std::cout; the errno of the first failed write to stdout, or 0.
  int finish();

 private:
  StdoutBuffer buffer_;
  std::streambuf* previous_;
};

}  // namespace runctl::cli
