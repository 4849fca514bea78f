#include "engine/response.hpp"

namespace runctl {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::kAccept:
      return "ACCEPT";
    case Status::kReject:
      return "REJECT";
    case Status::kWait:
      return "WAIT";
    case Status::kAbort:
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
