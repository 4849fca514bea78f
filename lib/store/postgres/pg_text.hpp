// Values as the PostgreSQL backend sends them: every parameter is text, and every stored text is
// the one the SQLite backend stores (JSON compact, times in runctl's ISO form).
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/state.hpp"
#include "store/state_data.hpp"  // to_text
#include "util/time.hpp"

namespace runctl::pg {

// The first line of a message, newlines and tabs folded into spaces: libpq's messages run over
// several lines ("...\n\tIs the server running...?").
std::string first_line(std::string_view text);

// A JSON array of strings, as to_text(Json(items)) writes it, without building the Json.
std::string strings_text(const std::vector<std::string>& items);

// A PostgreSQL array literal of texts ('{"a","b"}'), for `= ANY($1::text[])`.
std::string text_array(const std::vector<std::string>& items);

// A double that reads back as the same value.
std::string double_text(double v);

// The parameters of one statement, in order ($1, $2, ...). Values are kept here until the
// statement has run.
class Params {
 public:
  Params() = default;
  // Movable (a deque's elements stay where they are), not copyable: values_ points into kept_.
  Params(Params&&) = default;
  Params& operator=(Params&&) = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  Params& text(std::string v) {
    kept_.push_back(std::move(v));
    values_.push_back(kept_.back().c_str());
    return *this;
  }
  Params& text(std::string_view v) { return text(std::string(v)); }
  Params& text(const char*) = delete;  // a literal: use text(std::string_view)
  Params& null() {
    values_.push_back(nullptr);
    return *this;
  }
  Params& opt_text(const std::optional<std::string>& v) { return v ? text(*v) : null(); }
  Params& int64(std::int64_t v) { return text(std::to_string(v)); }
  Params& real(double v) { return text(double_text(v)); }
  Params& boolean(bool v) { return text(std::string_view(v ? "t" : "f")); }
  Params& time(Timestamp t) { return text(format_timestamp(t)); }
  Params& opt_time(const std::optional<Timestamp>& t) { return t ? time(*t) : null(); }
  Params& type(const std::optional<StateType>& t) {
    return t ? text(std::string_view(type_name(*t))) : null();
  }

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  // Whether a value holds a NUL byte, which a PostgreSQL text cannot: its index, or -1.
  int nul_index() const;

 private:
  std::deque<std::string> kept_;  // a deque: the values' addresses stay put as it grows
  std::vector<const char*> values_;
};

}  // namespace runctl::pg
