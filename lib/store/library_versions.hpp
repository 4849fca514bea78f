// The versions of the database libraries runctl is built with, for `runctl --version`.
#pragma once
#include <string>

namespace runctl {

std::string sqlite_library_version();  // lib/store/sqlite/sqlite_database.cpp

}  // namespace runctl
