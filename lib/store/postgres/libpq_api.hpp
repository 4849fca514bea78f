// libpq, loaded when a PostgreSQL database is first opened. runctl does not link libpq: its
// dependencies (TLS, Kerberos, LDAP: some twenty libraries) would be loaded and initialised by
// every process, SQLite-only ones included, and a one-off command would pay for them. The
// backend calls libpq through libpq() instead; the declarations come from libpq-fe.h as usual.
#pragma once
#include <libpq-fe.h>

namespace runctl {

// Every libpq function the backend calls: X(name).
// clang-format off
#define RUNCTL_LIBPQ_FUNCTIONS(X) \
  X(PQclear) \
  X(PQcmdStatus) \
  X(PQcmdTuples) \
  X(PQconnectdbParams) \
  X(PQconninfoFree) \
  X(PQconninfoParse) \
  X(PQenterPipelineMode) \
  X(PQerrorMessage) \
  X(PQexec) \
  X(PQexecParams) \
  X(PQexecPrepared) \
  X(PQexitPipelineMode) \
  X(PQfinish) \
  X(PQfname) \
  X(PQfreemem) \
  X(PQgetResult) \
  X(PQgetisnull) \
  X(PQgetlength) \
  X(PQgetvalue) \
  X(PQhost) \
  X(PQntuples) \
  X(PQpipelineSync) \
  X(PQport) \
  X(PQprepare) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQsendPrepare) \
  X(PQsendQueryParams) \
  X(PQsendQueryPrepared) \
  X(PQsetNoticeReceiver) \
  X(PQstatus) \
  X(PQtransactionStatus)
// clang-format on

struct Libpq {
#define RUNCTL_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  RUNCTL_LIBPQ_FUNCTIONS(RUNCTL_LIBPQ_POINTER)
#undef RUNCTL_LIBPQ_POINTER
};

// The loaded library (libpq.so.5), loaded on the first call. Throws Error(kUnavailable) naming
// the package to install when it is missing or lacks a function.
const Libpq& libpq();

}  // namespace runctl
