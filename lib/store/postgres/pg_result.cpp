#include "store/postgres/pg_result.hpp"

#include <charconv>
#include <cstdlib>

#include "store/postgres/pg_text.hpp"
#include "util/error.hpp"

namespace runctl::pg {

std::int64_t Result::affected() const {
  const char* n = r_ ? libpq().PQcmdTuples(r_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

std::optional<std::string> RowReader::opt_text(int i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::int64_t RowReader::int64(int i) {
  const std::string_view v = view(i);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size())
    bad(i, "expected an integer, got '" + std::string(v) + "'");
  return out;
}

double RowReader::real(int i) {
  // PostgreSQL prints a double with the fewest digits that read back to the same value.
  const std::string v = text(i);
  char* end = nullptr;
  const double out = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') bad(i, "expected a number, got '" + v + "'");
  return out;
}

bool RowReader::boolean(int i) {
  const std::string_view v = view(i);
  if (v == "t") return true;
  if (v == "f") return false;
  bad(i, "expected a boolean, got '" + std::string(v) + "'");
}

std::optional<Timestamp> RowReader::opt_time(int i) {
  if (is_null(i)) return std::nullopt;
  auto t = parse_timestamp(view(i));
  if (!t) bad(i, "invalid timestamp '" + text(i) + "'");
  return t;
}

Timestamp RowReader::time(int i) {
  auto t = opt_time(i);
  if (!t) bad(i, "missing timestamp");
  return *t;
}

std::optional<StateType> RowReader::opt_type(int i) {
  if (is_null(i)) return std::nullopt;
  auto t = parse_state_type(view(i));
  if (!t) bad(i, "invalid state type '" + text(i) + "'");
  return t;
}

Json RowReader::json(int i) {
  if (is_null(i)) return Json();
  const std::string_view v = view(i);
  try {
    return Json::parse(v.begin(), v.end());
  } catch (const Json::exception& e) {
    bad(i, std::string("invalid JSON: ") + e.what());
  }
}

std::string RowReader::json_text(int i) {
  std::string v = text(i);
  if (!Json::accept(v)) bad(i, "invalid JSON");
  return v;
}

std::vector<std::string> RowReader::strings(int i) {
  // Most runs have no tags: no parser for them.
  if (!is_null(i) && view(i) == "[]") return {};
  const Json j = json(i);
  std::vector<std::string> out;
  if (!j.is_array()) bad(i, "expected a JSON array of strings");
  out.reserve(j.size());
  for (const auto& e : j) {
    if (!e.is_string()) bad(i, "expected a JSON array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::string RowReader::where() const {
  std::string out = db_ + ": ";
  out += what_;
  if (!key_.empty()) {
    out += ' ';
    out += key_;
  }
  return out;
}

void RowReader::bad(int i, const std::string& what) {
  throw Error(ErrorKind::kBadData,
              where() + ", column " + r_.column_name(i) + ": " + first_line(what));
}

}  // namespace runctl::pg
