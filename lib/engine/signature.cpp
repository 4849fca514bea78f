#include "engine/signature.hpp"

#include <mutex>
#include <unordered_set>

namespace runctl {

const std::string* intern_name(const std::string& name) {
  // Node-based, never shrunk: the pointers handed out stay valid for the process.
  static std::mutex mutex;
  static auto* names = new std::unordered_set<std::string>();
  std::lock_guard lock(mutex);
  return &*names->insert(name).first;
}

}  // namespace runctl
