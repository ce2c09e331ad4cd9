// Copyright 2026 The mp Authors.

#include "mpi/fault.h"

#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "mp/status.h"

namespace mp {
namespace internal {
namespace mpi {

bool IsProcessFailure(int code) {
#if defined(MPIX_ERR_PROC_FAILED)
  int error_class = code;
  MPI_Error_class(code, &error_class);
  return error_class == MPIX_ERR_PROC_FAILED;
#else
  (void)code;
  return false;
#endif
}

absl::Status RankDiedStatus(int rank, int code) {
  return WorkerDiedError(absl::StrCat("mp::MpiPool: worker rank ", rank,
                                      " died while running the task (",
                                      Describe("a call", code), ")"));
}

std::string Describe(const char* call, int code) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  return absl::StrCat(
      call, " failed (",
      length > 0 ? std::string(text, length) : absl::StrCat("MPI error ", code),
      ")");
}

void Fail(const char* call, int code, int peer) {
  if (peer < 0) EndJob(Describe(call, code));
  if (IsProcessFailure(code)) {
    EndJob(absl::StrCat("worker rank ", peer, " died (", Describe(call, code),
                        "); this MPI library cannot go on without it"));
  }
  EndJob(absl::StrCat(Describe(call, code), ", with rank ", peer));
}

void EndJob(const std::string& why) {
  std::fprintf(stderr, "mp::MpiPool: %s\n", why.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  ::_exit(1);
}

}  // namespace mpi
}  // namespace internal
}  // namespace mp
