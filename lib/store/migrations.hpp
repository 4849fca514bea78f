// The schema migrations, embedded from schema/*.sql at build time (cmake/embed_migrations.cmake).
#pragma once
#include <vector>

namespace runctl {

struct Migration {
  int version;       // the NNN prefix of the file name; user_version after applying it
  const char* name;  // file name, for messages
  const char* sql;
};

// In version order.
const std::vector<Migration>& migrations();

}  // namespace runctl
