// The PostgreSQL backend: one server shared by many processes on many machines. Transactions run
// at READ COMMITTED, as Prefect's do; a transition locks its run row with SELECT ... FOR UPDATE,
// and shared counters change by conditional UPDATEs checked by their row counts
// (docs/postgres.md). The only code that includes libpq-fe.h is under lib/store/postgres/.
#pragma once
#include <memory>
#include <string>

#include "store/database.hpp"

namespace runctl {

// `url` is a libpq connection URI (postgresql://... or postgres://...); libpq's environment
// (PGHOST, PGPASSWORD, PGSERVICE, ~/.pgpass, ...) applies as libpq documents. Throws as
// open_database() documents; kUnavailable names the host, never the password.
std::unique_ptr<Database> open_postgres_database(const std::string& url, OpenMode mode,
                                                 const OpenOptions& options);

// The URL with any password masked, for messages.
std::string mask_password(const std::string& url);

}  // namespace runctl
