// UUIDs (lib/util/uuid.cpp): version-4 generation, seeded determinism, normalisation.
#include "util/uuid.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace runctl {
namespace {

// 8-4-4-4-12 lower-case hex, version nibble 4, RFC 4122 variant (8, 9, a or b).
bool is_v4(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

TEST_CASE("is_v4 (the test's own checker) tells good from bad") {
  CHECK(is_v4("0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01"));
  CHECK_FALSE(is_v4("0b5c1b37-7e2a-1b8e-9d5e-3b3d2f1a0c01"));  // version 1
  CHECK_FALSE(is_v4("0b5c1b37-7e2a-4b8e-cd5e-3b3d2f1a0c01"));  // variant c
  CHECK_FALSE(is_v4("0B5C1B37-7E2A-4B8E-9D5E-3B3D2F1A0C01"));  // upper case
}

TEST_CASE("RandomUuidGenerator: version-4 shape") {
  RandomUuidGenerator gen(7);
  std::set<char> variants;
  for (int i = 0; i < 200; ++i) {
    const std::string id = gen.next();
    CAPTURE(id);
    CHECK(is_v4(id));
    CHECK(normalize_uuid(id) == id);  // already canonical
    variants.insert(id[19]);
  }
  // The two variant bits are fixed; the other two are random, so all four digits turn up.
  CHECK(variants == std::set<char>{'8', '9', 'a', 'b'});
}

TEST_CASE("RandomUuidGenerator: seeded generators are deterministic") {
  RandomUuidGenerator a(42), b(42), c(43);
  const std::string a1 = a.next(), a2 = a.next();
  CHECK(a1 == b.next());
  CHECK(a2 == b.next());
  CHECK(a1 != a2);
  CHECK(c.next() != a1);
}

TEST_CASE("RandomUuidGenerator: unseeded generators differ") {
  RandomUuidGenerator a, b;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    seen.insert(a.next());
    seen.insert(b.next());
  }
  CHECK(seen.size() == 200);
  CHECK(is_v4(*seen.begin()));
}

TEST_CASE("normalize_uuid: upper and mixed case become lower case") {
  CHECK(normalize_uuid("0B5C1B37-7E2A-4B8E-9D5E-3B3D2F1A0C01") ==
        "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01");
  CHECK(normalize_uuid("0b5C1b37-7E2a-4B8e-9d5E-3b3D2f1A0c01") ==
        "0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01");
  // Any version is a UUID: Prefect's state ids are v7.
  CHECK(normalize_uuid("01890a5d-ac96-774b-bcce-b302099a8057") ==
        "01890a5d-ac96-774b-bcce-b302099a8057");
  CHECK(normalize_uuid("00000000-0000-0000-0000-000000000000") ==
        "00000000-0000-0000-0000-000000000000");
}

TEST_CASE("normalize_uuid: rejects what is not a UUID") {
  CHECK_FALSE(normalize_uuid("").has_value());
  CHECK_FALSE(normalize_uuid("nope").has_value());
  CHECK_FALSE(normalize_uuid("0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c0").has_value());    // short
  CHECK_FALSE(normalize_uuid("0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c011").has_value());  // long
  CHECK_FALSE(normalize_uuid("0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c0g").has_value());   // not hex
  CHECK_FALSE(normalize_uuid("0b5c1b377-e2a-4b8e-9d5e-3b3d2f1a0c01").has_value());   // dash moved
  CHECK_FALSE(normalize_uuid("0b5c1b37_7e2a_4b8e_9d5e_3b3d2f1a0c01").has_value());
  CHECK_FALSE(normalize_uuid(" b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c01").has_value());
  CHECK_FALSE(normalize_uuid("0b5c1b37-7e2a-4b8e-9d5e-3b3d2f1a0c0-").has_value());
}

}  // namespace
}  // namespace runctl
