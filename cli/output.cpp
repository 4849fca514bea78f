#include "cli/output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace runctl::cli {

StdoutBuffer::StdoutBuffer() {
  setp(buffer_, buffer_ + kSize);
}

StdoutBuffer::~StdoutBuffer() {
  flush_all();
}

bool StdoutBuffer::write_out(const char* data, std::size_t n) {
  if (error_) return false;  // the stream is lost: a later, shorter write must not look fine
  while (n > 0) {
    const ssize_t w = ::write(STDOUT_FILENO, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      error_ = w < 0 ? errno : EIO;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool StdoutBuffer::flush_all() {
  const std::size_t pending = static_cast<std::size_t>(pptr() - pbase());
  setp(buffer_, buffer_ + kSize);
  return write_out(buffer_, pending);
}

StdoutBuffer::int_type StdoutBuffer::overflow(int_type c) {
  if (!flush_all()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

std::streamsize StdoutBuffer::xsputn(const char* data, std::streamsize n) {
  const auto room = epptr() - pptr();
  if (n <= room) {
    std::memcpy(pptr(), data, static_cast<std::size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  if (!flush_all()) return 0;
  if (n < static_cast<std::streamsize>(kSize)) {
    std::memcpy(pptr(), data, static_cast<std::size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  return write_out(data, static_cast<std::size_t>(n)) ? n : 0;
}

int StdoutBuffer::sync() {
  return flush_all() ? 0 : -1;
}

StdoutGuard::StdoutGuard() : previous_(std::cout.rdbuf(&buffer_)) {}

StdoutGuard::~StdoutGuard() {
  buffer_.flush_all();
  std::cout.rdbuf(previous_);
}

int StdoutGuard::finish() {
  std::cout.flush();
  buffer_.flush_all();
  return buffer_.error();
}

}  // namespace runctl::cli
