// Schema migrations, embedded from schema/<backend>/NNN_*.sql at build time
// (cmake/embed_migrations.cmake), one history per backend.
#pragma once
#include <vector>

namespace runctl {

struct Migration {
  int version;       // the NNN prefix of the file name: the schema version after applying it
  const char* name;  // file name, for messages
  const char* sql;
};

// In version order.
const std::vector<Migration>& sqlite_migrations();
const std::vector<Migration>& postgres_migrations();

}  // namespace runctl
