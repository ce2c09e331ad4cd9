// Copyright 2026 The mp Authors.
//
// SharedMemory, Value and Array conformance (mp/shared_memory.h): the same
// cases on every backend, across real processes.

#include "mp/shared_memory.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/codec.h"
#include "mp/internal/os.h"
#include "mp/process.h"
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
#include <unistd.h>

#include <fstream>
#endif

namespace mp {
namespace conformance {
namespace {

// Exit codes that say what went wrong in a child.
constexpr int kSetupFailed = 90;
constexpr int kWrongResult = 91;

// --- Helpers -----------------------------------------------------------------

// `value` encoded and decoded as a child receives it (each handle a
// duplicate of the sender's), in this process; `tamper` may change the
// bytes in between.
template <typename T>
absl::StatusOr<T> PassHere(const T& value,
                           void (*tamper)(std::string&) = nullptr) {
  HandleList list;
  Encoder e(&list);
  Encode(e, value);
  if (!e.status().ok()) return e.status();
  std::vector<intptr_t> handles;
  for (intptr_t h : list.handles) {
    absl::StatusOr<intptr_t> copy = os::DuplicateOsHandle(h);
    if (!copy.ok()) {
      for (intptr_t taken : handles) os::CloseOsHandle(taken);
      return copy.status();
    }
    handles.push_back(*copy);
  }
  HandleTable table(std::move(handles), os::DuplicateOsHandle,
                    os::CloseOsHandle);
  std::string bytes = e.Release();
  if (tamper != nullptr) tamper(bytes);
  Decoder d(bytes, &table);
  T out;
  absl::Status s = Decode(d, out);
  if (s.ok()) s = d.Finish();
  if (!s.ok()) return s;
  return out;
}

// The shared memory mappings this process has (Linux: MAP_SHARED lines of
// /proc/self/maps, whose permissions end in 's'; Win32: regions of mapped
// views); -1 if unknown. Private mappings are left out: the allocator (and
// a sanitizer's) maps and unmaps those as it sees fit.
int64_t MappingCount() {
#if MP_OS_WINDOWS
  int64_t n = 0;
  MEMORY_BASIC_INFORMATION info;
  for (const char* at = nullptr;
       VirtualQuery(at, &info, sizeof info) == sizeof info;
       at = static_cast<const char*>(info.BaseAddress) + info.RegionSize) {
    if (info.Type == MEM_MAPPED && info.BaseAddress == info.AllocationBase) {
      ++n;
    }
  }
  return n;
#else
  std::ifstream maps("/proc/self/maps");
  if (!maps) return -1;
  int64_t n = 0;
  for (std::string line; std::getline(maps, line);) {
    // "start-end perms offset dev inode path"; perms is "rwxs" or "rwxp".
    const size_t perms = line.find(' ');
    if (perms != std::string::npos && perms + 4 < line.size() &&
        line[perms + 4] == 's') {
      ++n;
    }
  }
  return n;
#endif
}

// The byte the 64 MiB case writes at `i`: differs between neighbours and
// between pages.
uint8_t PatternAt(size_t i) {
  return static_cast<uint8_t>(i ^ (i >> 8) ^ (i >> 16) ^ 0x5a);
}

// --- Children ----------------------------------------------------------------

void StoreValue(Value<int64_t> v, int64_t x) { v.Store(x); }

// Exits 0 if the value and the first bytes of `m` are what was stored.
void CheckValueAndBytes(Value<int64_t> v, SharedMemory m, int64_t want) {
  if (v.Load() != want) Exit(kWrongResult);
  if (m.size() != 4096 || m.data()[0] != 0x11 || m.data()[4095] != 0x22) {
    Exit(kWrongResult);
  }
  m.data()[1] = 0x33;  // seen by the parent
}

void AddMany(Value<int64_t> v, int n) {
  for (int i = 0; i < n; ++i) v.FetchAdd(1);
}

// The seed lesson's ticket counter: look at how many tickets are left, take
// a moment (the lesson's network delay), and write back one fewer, all
// under the value's lock. Exits 0 after buying a ticket, 1 when none was
// left.
void BuyTicket(Value<int> tickets) {
  Guard<Lock> guard(tickets.GetLock());
  if (!guard.ok()) Exit(kSetupFailed);
  const int left = tickets.Load();
  if (left <= 0) Exit(1);
  absl::SleepFor(absl::Milliseconds(5));
  tickets.Store(left - 1);
  Exit(0);
}

void FillArray(Array<uint8_t> a) {
  uint8_t* p = a.data();
  for (size_t i = 0; i < a.size(); ++i) p[i] = PatternAt(i);
}

// Takes the value's lock, writes half of an update (-1), says so, and
// waits to be killed.
void DieHoldingValueLock(Value<int64_t> v) {
  if (!v.GetLock().Acquire().ok()) Exit(kSetupFailed);
  v.Store(-1);
  absl::SleepFor(absl::Hours(1));
}

// The hostile peer: tries to shrink the memory behind each object to
// nothing and to grow it to twice its size, which would make every other
// holder's next access past the new end a crash. Exits with the number of
// resizes the OS allowed; works on the memory afterwards.
void ResizeSharedMemory(SharedMemory m, Value<int64_t> v, Array<uint32_t> a) {
  const std::vector<intptr_t> handles = {HandlesOf(m).at(0), HandlesOf(v).at(0),
                                         HandlesOf(a).at(0)};
  const size_t sizes[] = {m.size(), v.memory().size(), a.memory().size()};
  int resized = 0;
  for (size_t i = 0; i < handles.size(); ++i) {
#if MP_OS_WINDOWS
    // NtExtendSection, the only call that changes a section's size (Wine
    // has none), and a view larger than the section.
    using ExtendFn = LONG(NTAPI*)(HANDLE, LARGE_INTEGER*);
    auto extend = reinterpret_cast<ExtendFn>(reinterpret_cast<void*>(
        GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtExtendSection")));
    LARGE_INTEGER bigger;
    bigger.QuadPart = static_cast<LONGLONG>(sizes[i] * 2 + (1 << 20));
    const HANDLE section = reinterpret_cast<HANDLE>(handles[i]);
    if (extend != nullptr && extend(section, &bigger) >= 0) ++resized;
    void* view = MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0,
                               static_cast<SIZE_T>(bigger.QuadPart));
    if (view != nullptr) {
      ++resized;
      UnmapViewOfFile(view);
    }
#else
    const int fd = static_cast<int>(handles[i]);
    for (off_t to : {off_t{0}, static_cast<off_t>(sizes[i] * 2)}) {
      if (ftruncate(fd, to) == 0) {
        ++resized;
      } else if (errno != EPERM) {
        Exit(kSetupFailed);
      }
    }
#endif
  }
  // The peer's own memory works on too.
  m.data()[m.size() - 1] = 7;
  a[a.size() - 1] = 7;
  v.FetchAdd(1);
  Exit(resized);
}

void TouchAndClose(SharedMemory m, Value<int> v) {
  m.data()[0] = static_cast<uint8_t>(m.data()[0] + 1);
  v.FetchAdd(1);
  m.Close();
}

// --- Cases -------------------------------------------------------------------

template <typename B>
class SharedMemoryTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(SharedMemoryTest);

TYPED_TEST_P(SharedMemoryTest, ValueSetByChildSeenByParentAndSibling) {
  absl::StatusOr<Value<int64_t>> v = Value<int64_t>::Create(5);
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<SharedMemory> m = SharedMemory::Create(4096);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 4096u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m->data()) % 64, 0u);
  for (uint8_t b : m->span()) ASSERT_EQ(b, 0);  // zero-filled
  m->data()[0] = 0x11;
  m->data()[4095] = 0x22;
  EXPECT_EQ(v->Load(), 5);

  Process writer = MakeProcess<TypeParam>(StoreValue, *v, int64_t{1} << 40);
  ASSERT_TRUE(writer.Start().ok());
  EXPECT_EQ(JoinCode(writer), 0);
  EXPECT_EQ(v->Load(), int64_t{1} << 40);

  Process sibling =
      MakeProcess<TypeParam>(CheckValueAndBytes, *v, *m, int64_t{1} << 40);
  ASSERT_TRUE(sibling.Start().ok());
  EXPECT_EQ(JoinCode(sibling), 0);
  EXPECT_EQ(m->data()[1], 0x33);
}

TYPED_TEST_P(SharedMemoryTest, FourProcessesFetchAddExactTotal) {
  absl::StatusOr<Value<int64_t>> v = Value<int64_t>::Create(0, false);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->GetLock().empty());
  std::vector<Process> adders;
  for (int i = 0; i < 4; ++i) {
    adders.push_back(MakeProcess<TypeParam>(AddMany, *v, 100000));
    ASSERT_TRUE(adders.back().Start().ok());
  }
  for (Process& p : adders) EXPECT_EQ(JoinCode(p), 0);
  EXPECT_EQ(v->Load(), 400000);
  int64_t expected = 400000;
  EXPECT_TRUE(v->CompareExchange(expected, 7));
  EXPECT_FALSE(v->CompareExchange(expected, 8));
  EXPECT_EQ(expected, 7);
}

TYPED_TEST_P(SharedMemoryTest, TicketsSoldExactlyUnderValueLock) {
  constexpr int kTickets = 3;
  constexpr int kBuyers = 10;
  absl::StatusOr<Value<int>> tickets = Value<int>::Create(kTickets);
  ASSERT_TRUE(tickets.ok()) << tickets.status();
  std::vector<Process> buyers;
  for (int i = 0; i < kBuyers; ++i) {
    buyers.push_back(MakeProcess<TypeParam>(BuyTicket, *tickets));
    ASSERT_TRUE(buyers.back().Start().ok());
  }
  int sold = 0, turned_away = 0;
  for (Process& p : buyers) {
    const int code = JoinCode(p);
    if (code == 0) ++sold;
    if (code == 1) ++turned_away;
  }
  EXPECT_EQ(sold, kTickets);
  EXPECT_EQ(turned_away, kBuyers - kTickets);
  EXPECT_EQ(tickets->Load(), 0);
}

TYPED_TEST_P(SharedMemoryTest, ArrayOf64MiBFilledByChild) {
  constexpr size_t kSize = size_t{64} << 20;
  absl::StatusOr<Array<uint8_t>> a = Array<uint8_t>::Create(kSize, false);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), kSize);
  ASSERT_EQ(a->span().size(), kSize);
  Process filler = MakeProcess<TypeParam>(FillArray, *a);
  ASSERT_TRUE(filler.Start().ok());
  EXPECT_EQ(JoinCode(filler), 0);
  size_t wrong = 0;
  for (size_t i = 0; i < kSize; ++i) wrong += (*a)[i] != PatternAt(i);
  EXPECT_EQ(wrong, 0u);
}

TYPED_TEST_P(SharedMemoryTest, ChildKilledHoldingValueLockIsOwnerDied) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a holder never dies alone");
  absl::StatusOr<Value<int64_t>> v = Value<int64_t>::Create(10);
  ASSERT_TRUE(v.ok()) << v.status();
  Process holder = MakeProcess<TypeParam>(DieHoldingValueLock, *v);
  ASSERT_TRUE(holder.Start().ok());
  const absl::Time give_up = absl::Now() + kPatience;
  while (v->Load() != -1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(v->Load(), -1);
  ASSERT_TRUE(holder.Kill().ok());
  EXPECT_EQ(JoinCode(holder), -9);
  absl::Status s = v->GetLock().Acquire(kPatience);
  EXPECT_TRUE(IsOwnerDied(s)) << s;
  // What the dead holder wrote is still there, for the next holder to
  // repair.
  EXPECT_EQ(v->Load(), -1);
  v->Store(10);
  ASSERT_TRUE(v->GetLock().Release().ok());
  EXPECT_TRUE(v->GetLock().Acquire().ok());
  EXPECT_EQ(v->Load(), 10);
  EXPECT_TRUE(v->GetLock().Release().ok());
}

TYPED_TEST_P(SharedMemoryTest, PeerResizingSharedMemoryIsRefused) {
  MP_SKIP_ON_THREADS(
      "every \"process\" is a thread using the same heap memory: there is no "
      "descriptor or section a peer could resize");
  absl::StatusOr<SharedMemory> m = SharedMemory::Create(100000);
  ASSERT_TRUE(m.ok()) << m.status();
  absl::StatusOr<Value<int64_t>> v = Value<int64_t>::Create(1);
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<Array<uint32_t>> a = Array<uint32_t>::Create(5000);
  ASSERT_TRUE(a.ok()) << a.status();
  Process peer = MakeProcess<TypeParam>(ResizeSharedMemory, *m, *v, *a);
  ASSERT_TRUE(peer.Start().ok());
  // Every resize refused.
  EXPECT_EQ(JoinCode(peer), 0);
  // This process works on, to the last byte: a SIGBUS here would end the
  // whole test binary.
  EXPECT_EQ(m->data()[m->size() - 1], 7);
  EXPECT_EQ((*a)[a->size() - 1], 7u);
  m->data()[m->size() - 1] = 8;
  (*a)[a->size() - 1] = 8;
  EXPECT_EQ(v->FetchAdd(1), 2);
  EXPECT_EQ(v->Load(), 3);
  EXPECT_EQ(m->size(), 100000u);
}

TYPED_TEST_P(SharedMemoryTest, SizeDisagreeingWithMemoryIsRefusedOnReceipt) {
  EXPECT_EQ(SharedMemory::Create(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<SharedMemory> m = SharedMemory::Create(100);
  ASSERT_TRUE(m.ok()) << m.status();
  m->data()[99] = 9;
  // Received as sent: the same bytes.
  absl::StatusOr<SharedMemory> same = PassHere(*m);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->size(), 100u);
  EXPECT_EQ(same->data()[99], 9);
  // A message claiming another size (the size is its first byte) is
  // refused, whichever way it is off.
  for (auto tamper : {+[](std::string& b) { b[0] = 101; },
                      +[](std::string& b) { b[0] = 99; }}) {
    EXPECT_EQ(PassHere(*m, tamper).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  // An Array whose length does not fit the memory it names is refused.
  absl::StatusOr<Array<uint32_t>> a = Array<uint32_t>::Create(25);
  ASSERT_TRUE(a.ok()) << a.status();
  // Bytes: size (100), handle index, length (25), lock flag, lock.
  EXPECT_TRUE(PassHere(*a).ok());
  EXPECT_EQ(PassHere(
                *a, +[](std::string& b) { b[2] = 26; })
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // An empty or closed handle cannot be passed.
  SharedMemory closed = *m;
  closed.Close();
  EXPECT_TRUE(closed.closed());
  EXPECT_EQ(closed.data(), nullptr);
  EXPECT_EQ(PassHere(closed).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(m->data()[99], 9);  // other copies are unaffected
}

TYPED_TEST_P(SharedMemoryTest, CreatePassCloseCyclesLeakNothing) {
  // Under Wine a cycle makes and opens a section and four semaphores, each
  // call a wineserver round trip: 10 000 cycles take ~8 s there.
  constexpr int kCycles = 10000;
  // Every kChildEvery-th cycle passes to a real child as well.
  constexpr int kChildEvery = kCycles / 20;
  // Warm up: the first child, the first Lock and the first mapping allocate
  // what the process keeps for good.
  {
    absl::StatusOr<SharedMemory> m = SharedMemory::Create(4096);
    ASSERT_TRUE(m.ok());
    absl::StatusOr<Value<int>> v = Value<int>::Create(0);
    ASSERT_TRUE(v.ok());
    Process p = MakeProcess<TypeParam>(TouchAndClose, *m, *v);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(JoinCode(p), 0);
  }
  const int64_t handles_before = OpenHandleCount();
  const int64_t mappings_before = MappingCount();
  ASSERT_GE(handles_before, 0);
  ASSERT_GE(mappings_before, 0);
  for (int i = 0; i < kCycles; ++i) {
    absl::StatusOr<SharedMemory> m = SharedMemory::Create(4096);
    ASSERT_TRUE(m.ok()) << "cycle " << i << ": " << m.status();
    m->data()[4095] = static_cast<uint8_t>(i);
    absl::StatusOr<SharedMemory> received = PassHere(*m);
    ASSERT_TRUE(received.ok()) << "cycle " << i << ": " << received.status();
    ASSERT_EQ(received->data()[4095], static_cast<uint8_t>(i));
    if (i == 0 && !TypeParam::kThreads) {
      EXPECT_GT(MappingCount(), mappings_before) << "the count misses mp's";
    }
    if (i % kChildEvery == 0) {
      absl::StatusOr<Value<int>> v = Value<int>::Create(0);
      ASSERT_TRUE(v.ok()) << v.status();
      Process p = MakeProcess<TypeParam>(TouchAndClose, *received, *v);
      ASSERT_TRUE(p.Start().ok());
      ASSERT_EQ(JoinCode(p), 0);
      ASSERT_EQ(v->Load(), 1);
      ASSERT_EQ(m->data()[0], 1);
    }
    received->Close();
    m->Close();
  }
  EXPECT_EQ(OpenHandleCount(), handles_before);
  // Threads: the memory is the program's heap, not a mapping, so counting
  // mappings says nothing about mp.
  if (!TypeParam::kThreads) {
    EXPECT_EQ(MappingCount(), mappings_before);
  }
  EXPECT_EQ(CountZombieChildren(), 0);
}

REGISTER_TYPED_TEST_SUITE_P(SharedMemoryTest,
                            ValueSetByChildSeenByParentAndSibling,
                            FourProcessesFetchAddExactTotal,
                            TicketsSoldExactlyUnderValueLock,
                            ArrayOf64MiBFilledByChild,
                            ChildKilledHoldingValueLockIsOwnerDied,
                            PeerResizingSharedMemoryIsRefused,
                            SizeDisagreeingWithMemoryIsRefusedOnReceipt,
                            CreatePassCloseCyclesLeakNothing);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, SharedMemoryTest, Backends,
                               BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
