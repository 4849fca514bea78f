// Version comparison with PEP 440 ordering, for Prefect's api-version and client versions.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

namespace runctl {

struct Version {
  std::vector<long> release;  // 3.4.11 -> {3, 4, 11}
  // Pre-release: 0 = a, 1 = b, 2 = rc; none when absent. A release sorts after its pre-releases.
  std::optional<std::pair<int, long>> pre;
  std::optional<long> post;
  std::optional<long> dev;
};

// Parses "3.4.11", "v3.0.0rc20", "0.8.4", "2.19.0.post1", "3.1.0.dev3"; local parts ("+abc") are
// ignored. nullopt when it is not a version.
std::optional<Version> parse_version(std::string_view text);

// <0, 0, >0 as a is older, equal, newer than b.
int compare_versions(const Version& a, const Version& b);

}  // namespace runctl
