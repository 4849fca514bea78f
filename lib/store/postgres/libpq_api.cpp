#include "store/postgres/libpq_api.hpp"

#include <dlfcn.h>

#include <string>

#include "util/error.hpp"

namespace runctl {
namespace {

Libpq load() {
  // The soname first: what the libpq5 package installs; the unversioned name is libpq-dev's.
  void* handle = nullptr;
  for (const char* name : {"libpq.so.5", "libpq.so"}) {
    handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
  }
  if (!handle)
    throw Error(ErrorKind::kUnavailable,
                "PostgreSQL: libpq.so.5 not found; install the libpq5 package (apt-get install "
                "libpq5)");
  Libpq api;
#define RUNCTL_LIBPQ_RESOLVE(name)                                              \
  api.name = reinterpret_cast<decltype(api.name)>(::dlsym(handle, #name));      \
  if (!api.name)                                                                \
    throw Error(ErrorKind::kUnavailable, "PostgreSQL: libpq.so.5 has no " #name \
                                         "; a newer "                           \
                                         "libpq is needed");
  RUNCTL_LIBPQ_FUNCTIONS(RUNCTL_LIBPQ_RESOLVE)
#undef RUNCTL_LIBPQ_RESOLVE
  return api;  // the handle stays open for the life of the process
}

}  // namespace

const Libpq& libpq() {
  static const Libpq api = load();
  return api;
}

}  // namespace runctl
