// Copyright 2026 The mp Authors.
//
// A hostile peer: a process that holds an mp object and uses the OS handle
// behind it to hurt the other holders. What such a peer can and cannot do
// is stated in mp/sync.h ("Trust"); these cases check the "cannot" part
// that depends on the OS, on every backend.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/codec.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

#if MP_OS_WINDOWS
// clang-format off
#include <windows.h>
// clang-format on
#else
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace mp {
namespace conformance {
namespace {

constexpr int kSetupFailed = 90;
constexpr int kWrongResult = 91;

// The hostile child: shrinks the memory behind the Queue (its ring and its
// two locks) and the Lock to nothing, which would make every other
// holder's next access to it a SIGBUS. Exits with the number of
// truncations the OS allowed.
void TruncateSharedMemory(Queue q, Lock lock) {
#if MP_OS_WINDOWS
  (void)q;
  (void)lock;
  Exit(kSetupFailed);  // no such call (see the case)
#else
  std::vector<intptr_t> handles = HandlesOf(q);
  const std::vector<intptr_t> lock_handles = HandlesOf(lock);
  handles.insert(handles.end(), lock_handles.begin(), lock_handles.end());
  if (handles.size() != 4) Exit(kSetupFailed);
  int truncated = 0;
  for (intptr_t fd : handles) {
    if (ftruncate(static_cast<int>(fd), 0) == 0) {
      ++truncated;
    } else if (errno != EPERM) {
      Exit(kSetupFailed);
    }
  }
  Exit(truncated);
#endif
}

// --- A corrupt owner word ----------------------------------------------------

// This thread's id as the OS numbers threads: what a lock's owner word holds.
uint32_t ThisThreadId() {
#if MP_OS_WINDOWS
  return GetCurrentThreadId();
#else
  return static_cast<uint32_t>(syscall(SYS_gettid));
#endif
}

// The first bytes of the shared memory behind `lock`, mapped here; nullptr
// on failure. `size` is how many may be read.
char* MapLockMemory(const Lock& lock, size_t* size) {
  const std::vector<intptr_t> handles = HandlesOf(lock);
  if (handles.size() != 1) return nullptr;
#if MP_OS_WINDOWS
  void* view = MapViewOfFile(reinterpret_cast<HANDLE>(handles[0]),
                             FILE_MAP_ALL_ACCESS, 0, 0, 0);
  *size = 4096;  // a view is whole pages
  return static_cast<char*>(view);
#else
  struct stat st;
  const int fd = static_cast<int>(handles[0]);
  if (fstat(fd, &st) != 0 || st.st_size < 64) return nullptr;
  *size = std::min<size_t>(static_cast<size_t>(st.st_size), 4096);
  void* view = mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return view == MAP_FAILED ? nullptr : static_cast<char*>(view);
#endif
}

constexpr uint32_t kNoSuchThread = 0x3fffffff;  // above every OS's thread ids

// The hostile peer: finds the word of `lock`'s memory that names its holder
// (the first 32-bit word that holds this thread's id while this thread
// holds the lock, and 0 once it lets go: POSIX, the robust mutex's lock
// word; Win32, the low half of the owner word, whose high half, the
// holder's stamp, stays 0), then writes into it the id of a thread that
// does not hold the lock: none (`live` false), or this thread, which has
// let go and lives on until `release` is set (`live` true). Says so in
// `marker`. It starts no thread: ThreadSanitizer refuses a thread started
// in a fork child of a multi-threaded parent.
void CorruptOwnerWord(Lock lock, bool live, Event release, std::string marker) {
  size_t size = 0;
  char* memory = MapLockMemory(lock, &size);
  if (memory == nullptr) Exit(kSetupFailed);
  auto word_at = [&](size_t i) {
    return reinterpret_cast<std::atomic<uint32_t>*>(memory + i);
  };
  const uint32_t me = ThisThreadId();
  if (!lock.Acquire(kPatience).ok()) Exit(kSetupFailed);
  std::vector<size_t> named;
  for (size_t i = 0; i + 4 <= size; i += 4) {
    if (word_at(i)->load() == me) named.push_back(i);
  }
  if (!lock.Release().ok()) Exit(kSetupFailed);
  size_t at = size;
  for (size_t i : named) {
    if (word_at(i)->load() == 0) {
      at = i;
      break;
    }
  }
  if (at == size) Exit(kSetupFailed);
  word_at(at)->store(live ? me : kNoSuchThread);
  WriteFileAtomically(marker, "corrupt");
  (void)release.Wait(kPatience);
  Exit(0);
}

// What a waiter behind the corrupt word saw (exit codes).
constexpr int kTookOver = 0;  // OwnerDied, before its timeout
constexpr int kTimedOut = 1;  // DeadlineExceeded, at its timeout
constexpr absl::Duration kWaiterTimeout = absl::Milliseconds(500);

void AcquireBehindCorruptWord(Lock lock) {
  const absl::Time before = absl::Now();
  const absl::Status s = lock.Acquire(kWaiterTimeout);
  const absl::Duration took = absl::Now() - before;
  if (IsOwnerDied(s) && took < kWaiterTimeout) {
    Exit(lock.Release().ok() ? kTookOver : kWrongResult);
  }
  if (absl::IsDeadlineExceeded(s) && took >= kWaiterTimeout &&
      took < kWaiterTimeout + absl::Seconds(5)) {
    Exit(kTimedOut);
  }
  Exit(kWrongResult);
}

template <typename B>
class HostilePeerTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(HostilePeerTest);

TYPED_TEST_P(HostilePeerTest, PeerTruncatingSharedMemoryCannotCrashOthers) {
  MP_SKIP_ON_THREADS(
      "every \"process\" is a thread using the same heap memory: there is no "
      "descriptor a peer could truncate");
#if MP_OS_WINDOWS
  MP_DOCUMENTED_DIFFERENCE(
      "a section object's size is fixed when it is created: no holder of "
      "its handle can shrink it under another's view");
#endif
  absl::StatusOr<Queue> q = Queue::Create();
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok()) << lock.status();
  ASSERT_TRUE(q->Put(std::string("before")).ok());
  Process peer = MakeProcess<TypeParam>(TruncateSharedMemory, *q, *lock);
  ASSERT_TRUE(peer.Start().ok());
  // Every truncation refused.
  EXPECT_EQ(JoinCode(peer), 0);
  // This process works on: a SIGBUS here would end the whole test binary.
  EXPECT_TRUE(lock->Acquire(kPatience).ok());
  EXPECT_TRUE(lock->Release().ok());
  absl::StatusOr<std::string> before = q->Get<std::string>(kPatience);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, "before");
  ASSERT_TRUE(q->Put(std::string("after")).ok());
  absl::StatusOr<std::string> after = q->Get<std::string>(kPatience);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, "after");
}

#if !MP_OS_WINDOWS
// A copy of the memfd `fd`, contents and size, made without sealing.
int UnsealedCopy(intptr_t fd) {
  const int copy = memfd_create("mp-unsealed", MFD_CLOEXEC);
  if (copy < 0) return -1;
  char buffer[4096];
  for (off_t at = 0;;) {
    const ssize_t n = pread(static_cast<int>(fd), buffer, sizeof buffer, at);
    if (n <= 0) break;
    if (write(copy, buffer, static_cast<size_t>(n)) != n) break;
    at += n;
  }
  return copy;
}

// Decodes `value` as a child would, from duplicates of its handles; with
// `unsealed`, the first one (the memory of a Lock, or of a Queue's ring) is
// replaced by an unsealed copy.
template <typename T>
absl::Status DecodeReceived(const T& value, bool unsealed) {
  HandleList list;
  Encoder e(&list);
  Encode(e, value);
  if (!e.status().ok()) return e.status();
  auto duplicate = [](intptr_t h) -> absl::StatusOr<intptr_t> {
    const int d = fcntl(static_cast<int>(h), F_DUPFD_CLOEXEC, 0);
    if (d < 0) return absl::InternalError("test: F_DUPFD_CLOEXEC failed");
    return intptr_t{d};
  };
  std::vector<intptr_t> handles;
  for (size_t i = 0; i < list.handles.size(); ++i) {
    absl::StatusOr<intptr_t> h = duplicate(list.handles[i]);
    if (unsealed && i == 0 && h.ok()) {
      close(static_cast<int>(*h));
      const int copy = UnsealedCopy(list.handles[i]);
      h = copy < 0 ? absl::InternalError("test: memfd_create failed")
                   : absl::StatusOr<intptr_t>(copy);
    }
    if (!h.ok()) {
      for (intptr_t taken : handles) close(static_cast<int>(taken));
      return h.status();
    }
    handles.push_back(*h);
  }
  HandleTable table(std::move(handles), duplicate,
                    [](intptr_t h) { close(static_cast<int>(h)); });
  Decoder d(e.bytes(), &table);
  T out;
  return Decode(d, out);
}
#endif

TYPED_TEST_P(HostilePeerTest, UnsealedSharedMemoryIsRefusedOnReceipt) {
  MP_SKIP_ON_THREADS("there is no descriptor to receive");
#if MP_OS_WINDOWS
  MP_DOCUMENTED_DIFFERENCE(
      "a section object's size is fixed when it is created: there is no "
      "seal to check");
#else
  absl::StatusOr<Queue> q = Queue::Create();
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok()) << lock.status();
  // Received as made, they decode; with their memory unsealed, they are
  // refused.
  EXPECT_TRUE(DecodeReceived(*lock, false).ok());
  EXPECT_TRUE(DecodeReceived(*q, false).ok());
  EXPECT_EQ(DecodeReceived(*lock, true).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeReceived(*q, true).code(),
            absl::StatusCode::kInvalidArgument);
#endif
}

// A peer rewrites the word that names a Lock's holder, while nobody holds
// it, with the id of a thread that never took it: one that does not exist,
// or a live one. A waiter never waits past its timeout, and what it gets
// is the backend's documented difference:
//   Win32: OwnerDied at once. The word names no running thread, or one
//     whose stamp is not the word's, which is how a holder whose id was
//     reused looks: the holder has ended, and the waiter takes the lock
//     over; the lock is an ordinary one afterwards.
//   POSIX: DeadlineExceeded at its timeout. The kernel learns that a robust
//     mutex's holder died only from that holder's own robust list, and no
//     thread has this mutex on its list: the lock stays held for ever, as
//     by a peer that takes it and never lets go (mp/sync.h, "Trust").
TYPED_TEST_P(HostilePeerTest, CorruptOwnerWordNeverHoldsAWaiterPastItsTimeout) {
  MP_SKIP_ON_THREADS(
      "every \"process\" is a thread using the same heap memory: there is no "
      "shared memory behind a handle that a peer could rewrite");
  for (const bool live : {false, true}) {
    SCOPED_TRACE(live ? "a live thread's id" : "an id no thread has");
    absl::StatusOr<Lock> lock = Lock::Create();
    absl::StatusOr<Event> release = Event::Create();
    ASSERT_TRUE(lock.ok() && release.ok());
    const std::string marker = TempPath("corrupt");
    Process peer =
        MakeProcess<TypeParam>(CorruptOwnerWord, *lock, live, *release, marker);
    ASSERT_TRUE(peer.Start().ok());
    ASSERT_TRUE(WaitForFile(marker, kPatience).has_value())
        << "the peer did not find the owner word: exit code " << JoinCode(peer);
    Process waiter = MakeProcess<TypeParam>(AcquireBehindCorruptWord, *lock);
    ASSERT_TRUE(waiter.Start().ok());
    const int seen = JoinCode(waiter);
#if MP_OS_WINDOWS
    EXPECT_EQ(seen, kTookOver);
    EXPECT_TRUE(lock->Acquire(kPatience).ok());
    EXPECT_TRUE(lock->Release().ok());
#else
    EXPECT_EQ(seen, kTimedOut);
    EXPECT_TRUE(absl::IsDeadlineExceeded(lock->TryAcquire()));
#endif
    ASSERT_TRUE(release->Set().ok());
    EXPECT_EQ(JoinCode(peer), 0);
  }
}

// Writes an empty record straight on the OS handle of `writer`, as a peer
// that is not mp may (every mp record carries at least its kind).
bool WriteEmptyRecord(const Connection& writer) {
  const std::vector<intptr_t> handles = HandlesOf(writer);
  if (handles.size() != 1) return false;
#if MP_OS_WINDOWS
  HANDLE h = reinterpret_cast<HANDLE>(handles[0]);
  OVERLAPPED ov = {};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr) return false;
  DWORD written = 0;
  const bool ok = WriteFile(h, "", 0, nullptr, &ov) ||
                  (GetLastError() == ERROR_IO_PENDING &&
                   GetOverlappedResult(h, &ov, &written, TRUE));
  CloseHandle(ov.hEvent);
  return ok;
#else
  return send(static_cast<int>(handles[0]), "", 0, MSG_NOSIGNAL) == 0;
#endif
}

// A Wait takes nothing, not even an empty record: a receive after a Wait
// reports what a receive without one does, and the channel goes on.
TYPED_TEST_P(HostilePeerTest, EmptyRecordIsNotLostToWait) {
  MP_SKIP_ON_THREADS("there is no OS handle to write a record on");
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe(false);
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  auto& [reader, writer] = *pipe;
  ASSERT_TRUE(WriteEmptyRecord(writer));
  const absl::Status unwaited = reader.RecvBytes(kPatience).status();
  EXPECT_FALSE(unwaited.ok());

  ASSERT_TRUE(WriteEmptyRecord(writer));
  absl::StatusOr<std::vector<size_t>> ready = Wait({&reader}, {}, kPatience);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, (std::vector<size_t>{0}));
  EXPECT_EQ(reader.RecvBytes(kPatience).status().code(), unwaited.code())
      << unwaited;

  // An empty record arriving while the wait is under way.
  std::thread late([&] {
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_TRUE(WriteEmptyRecord(writer));
  });
  ready = Wait({&reader}, {}, kPatience);
  late.join();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, (std::vector<size_t>{0}));
  EXPECT_EQ(reader.RecvBytes(kPatience).status().code(), unwaited.code());

  ASSERT_TRUE(writer.SendBytes("after").ok());
  EXPECT_EQ(reader.RecvBytes(kPatience).value_or(""), "after");
}

REGISTER_TYPED_TEST_SUITE_P(HostilePeerTest,
                            PeerTruncatingSharedMemoryCannotCrashOthers,
                            UnsealedSharedMemoryIsRefusedOnReceipt,
                            CorruptOwnerWordNeverHoldsAWaiterPastItsTimeout,
                            EmptyRecordIsNotLostToWait);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, HostilePeerTest, Backends,
                               BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
