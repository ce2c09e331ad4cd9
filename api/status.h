// Copyright 2026 The mp Authors.
//
// The distinct results of mp's synchronisation and communication calls.
// Each is an absl::Status with a fixed code and an "mp" payload naming the
// kind, so `IsEndOfFile(s)` never mistakes another error of the same code.
//
//   EndOfFile  (kOutOfRange)        Recv on a connection whose every write
//                                   end is closed; GetWhileAlive once every
//                                   producer has ended and the queue is
//                                   empty. (A closed Queue or Connection is
//                                   FailedPrecondition.)
//   OwnerDied  (kDataLoss)          Acquire succeeded — the caller HOLDS the
//                                   lock — but its previous owner died
//                                   holding it, so what it protected may be
//                                   half-updated. Python deadlocks here.
//   Empty      (kUnavailable)       Get found nothing in time.
//   Full       (kResourceExhausted) Put found no room in time.
//   Broken     (kAborted)           a Barrier was aborted or reset.
//   Timeout    (kDeadlineExceeded)  Acquire / Wait gave up.
//   WorkerDied (kAborted)           a Pool task's worker died while it held
//                                   the task (killed, crashed, exited); the
//                                   message names the exit code or signal.

#ifndef MP_STATUS_H_
#define MP_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mp {

absl::Status EndOfFileError(absl::string_view message);
absl::Status OwnerDiedError(absl::string_view message);
absl::Status EmptyError(absl::string_view message);
absl::Status FullError(absl::string_view message);
absl::Status BrokenError(absl::string_view message);
absl::Status WorkerDiedError(absl::string_view message);

bool IsEndOfFile(const absl::Status& s);
bool IsOwnerDied(const absl::Status& s);
bool IsEmpty(const absl::Status& s);
bool IsFull(const absl::Status& s);
bool IsBroken(const absl::Status& s);
bool IsWorkerDied(const absl::Status& s);

}  // namespace mp

#endif  // MP_STATUS_H_
