// The orchestration response: Prefect's OrchestrationResult, SetStateStatus and the details
// classes (prefect.server.schemas.responses).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runctl {

enum class SetStateStatus { kAccept, kReject, kWait, kAbort };

// "ACCEPT", "REJECT", "WAIT", "ABORT"
std::string_view status_name(SetStateStatus s);

struct ResponseDetails {
  enum class Kind { kAccept, kReject, kWait, kAbort };
  Kind kind = Kind::kAccept;
  std::optional<std::string> reason;
  std::optional<std::int64_t> delay_seconds;  // wait details only

  static ResponseDetails accept() { return {}; }
  static ResponseDetails reject(std::optional<std::string> reason) {
    return {Kind::kReject, std::move(reason), std::nullopt};
  }
  static ResponseDetails wait(std::int64_t seconds, std::optional<std::string> reason) {
    return {Kind::kWait, std::move(reason), seconds};
  }
  static ResponseDetails abort(std::optional<std::string> reason) {
    return {Kind::kAbort, std::move(reason), std::nullopt};
  }
  bool operator==(const ResponseDetails&) const = default;
};

// "accept_details", "reject_details", "wait_details", "abort_details"
std::string_view details_type_name(ResponseDetails::Kind k);

}  // namespace runctl
