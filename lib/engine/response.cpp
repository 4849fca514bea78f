#include "engine/response.hpp"

namespace runctl {

std::string_view status_name(SetStateStatus s) {
  switch (s) {
    case SetStateStatus::kAccept:
      return "ACCEPT";
    case SetStateStatus::kReject:
      return "REJECT";
    case SetStateStatus::kWait:
      return "WAIT";
    case SetStateStatus::kAbort:
      return "ABORT";
  }
  return "?";
}

std::string_view details_type_name(ResponseDetails::Kind k) {
  switch (k) {
    case ResponseDetails::Kind::kAccept:
      return "accept_details";
    case ResponseDetails::Kind::kReject:
      return "reject_details";
    case ResponseDetails::Kind::kWait:
      return "wait_details";
    case ResponseDetails::Kind::kAbort:
      return "abort_details";
  }
  return "?";
}

}  // namespace runctl
