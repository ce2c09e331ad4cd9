// Copyright 2026 The mp Authors.
//
// The MPI job of an mp program: MPI_Init_thread from mp::Init (the init
// hook), the greeting that checks every rank runs the same build, and the
// end of the job when rank 0's program ends.

#include "mpi/runtime.h"

#include <elf.h>
#include <link.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mp/codec.h"
#include "mp/internal/hooks.h"
#include "mp/internal/pool_impl.h"
#include "mpi/fault.h"
#include "mpi/pools.h"
#include "mpi/wire.h"

namespace mp {
namespace internal {
namespace mpi {
namespace {

// How long the ranks wait for each other at the start and at the end of
// the job before ending it with a message: MPI_Init has returned on every
// rank by then, so only a rank that is not running this program (or is
// stuck) takes longer.
constexpr std::chrono::seconds kGreetingPatience(60);
constexpr std::chrono::seconds kShutdownPatience(30);

// Where mp/status.h keeps a status's kind.
constexpr char kStatusKindUrl[] = "mp";

Job g_job;
pid_t g_owner_pid = -1;  // the process that initialised MPI
bool g_ending = false;   // guarded by Lock()

// Whether a launcher of MPI jobs started this process (Open MPI's mpirun,
// or any PMI/PMIx launcher).
bool StartedByLauncher() {
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::string ProgramPath() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : std::string("?");
}

std::string HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "?";
  return name;
}

int FindBuildId(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  // The first object reported is the main program.
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof(note));
      const char* name = p + sizeof(note);
      const char* desc = name + ((note.n_namesz + 3) & ~3u);
      const char* next = desc + ((note.n_descsz + 3) & ~3u);
      if (next > end) break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        std::string hex;
        for (uint32_t j = 0; j < note.n_descsz; ++j) {
          absl::StrAppend(&hex, absl::Hex(static_cast<unsigned char>(desc[j]),
                                          absl::kZeroPad2));
        }
        *out = "build-id " + hex;
        return 1;
      }
      p = next;
    }
  }
  return 1;
}

// Sleeps for the pacer's next pause.
void Pause(Pacer& pacer, int64_t longest_micros) {
  const int64_t micros = pacer.NextSleepMicros(longest_micros);
  if (micros == 0) {
    sched_yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
}

void Check(int code, const char* call) {
  if (code != MPI_SUCCESS) EndJob(Describe(call, code));
}

// --- The greeting
// -------------------------------------------------------------

struct Welcome {
  bool same = false;
  std::string identity, path, host;
  int64_t pid = 0;
};

void GreetAsRankZero() {
  const std::string identity = BuildIdentity();
  const std::string path = ProgramPath();
  Encoder hello;
  hello.PutVarint(kHello);
  Encode(hello, std::string(kMagic));
  hello.PutVarint(kProtocol);
  Encode(hello, identity);
  Encode(hello, path);
  Outbox outbox;
  for (int r = 1; r < g_job.size; ++r) outbox.Send(r, kJobTag, hello.bytes());
  std::vector<std::optional<Welcome>> answers(g_job.size);
  int answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + kGreetingPatience;
  Pacer pacer;
  while (answered < g_job.size - 1) {
    outbox.Progress();
    std::optional<Message> m = TryReceive(MPI_ANY_SOURCE, kJobTag);
    if (!m.has_value()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::vector<int> silent;
        for (int r = 1; r < g_job.size; ++r) {
          if (!answers[r].has_value()) silent.push_back(r);
        }
        EndJob(absl::StrCat(
            "rank(s) ", absl::StrJoin(silent, ", "),
            " did not answer mp's greeting within ", kGreetingPatience.count(),
            " s: every rank must run this same program, linked with "
            "//:mp_mpi, and call mp::Init first thing in main()"));
      }
      Pause(pacer, 2000);
      continue;
    }
    pacer.Reset();
    Decoder d(m->bytes);
    Welcome w;
    absl::StatusOr<uint64_t> kind = d.GetVarint();
    absl::Status s = kind.ok() && *kind == kWelcome
                         ? Decode(d, w.same)
                         : absl::InvalidArgumentError("not a welcome");
    if (s.ok()) s = Decode(d, w.identity);
    if (s.ok()) s = Decode(d, w.path);
    if (s.ok()) s = Decode(d, w.host);
    if (s.ok()) s = Decode(d, w.pid);
    if (!s.ok()) {
      w.same = false;
      w.identity = "an answer mp cannot read";
    }
    if (!answers[m->source].has_value()) ++answered;
    answers[m->source] = std::move(w);
  }
  while (!outbox.Empty()) outbox.Progress();
  std::vector<std::string> differ;
  for (int r = 1; r < g_job.size; ++r) {
    const Welcome& w = *answers[r];
    if (w.same && w.identity == identity) continue;
    differ.push_back(absl::StrCat("rank ", r, " runs ", w.path, " (",
                                  w.identity, ") on host ", w.host));
  }
  if (!differ.empty()) {
    EndJob(absl::StrCat(
        "every rank must run the same build of the program, but rank 0 runs ",
        path, " (", identity, ") on host ", HostName(), ", and ",
        absl::StrJoin(differ, "; "),
        ". Build once and copy the same binary to every host."));
  }
}

// Answers rank 0's greeting; false if the builds differ (rank 0 then ends
// the job).
bool GreetAsWorker() {
  const auto deadline = std::chrono::steady_clock::now() + kGreetingPatience;
  Pacer pacer;
  std::optional<Message> m;
  while (!(m = TryReceive(0, kJobTag)).has_value()) {
    if (std::chrono::steady_clock::now() > deadline) {
      EndJob(absl::StrCat("worker rank ", g_job.rank,
                          " was not greeted by rank 0 within ",
                          kGreetingPatience.count(),
                          " s: is rank 0 running this same program?"));
    }
    Pause(pacer, 2000);
  }
  const std::string identity = BuildIdentity();
  Decoder d(m->bytes);
  absl::StatusOr<uint64_t> kind = d.GetVarint();
  std::string magic, theirs, path;
  uint64_t protocol = 0;
  absl::Status s = kind.ok() && *kind == kHello
                       ? Decode(d, magic)
                       : absl::InvalidArgumentError("not a greeting");
  if (s.ok()) {
    absl::StatusOr<uint64_t> v = d.GetVarint();
    s = v.status();
    if (v.ok()) protocol = *v;
  }
  if (s.ok()) s = Decode(d, theirs);
  if (s.ok()) s = Decode(d, path);
  const bool same =
      s.ok() && magic == kMagic && protocol == kProtocol && theirs == identity;
  Encoder welcome;
  welcome.PutVarint(kWelcome);
  Encode(welcome, same);
  Encode(welcome, identity);
  Encode(welcome, ProgramPath());
  Encode(welcome, HostName());
  Encode(welcome, static_cast<int64_t>(::getpid()));
  Outbox outbox;
  outbox.Send(0, kJobTag, welcome.Release());
  while (!outbox.Empty()) outbox.Progress();
  return same;
}

// --- The end of the job -----------------------------------------------------

// At rank 0's exit: ends the pools still alive, tells every worker rank to
// end, waits for each one's last message, and finalizes MPI.
void EndOfProgram() {
  if (::getpid() != g_owner_pid) return;  // a fork child running exit()
  TerminateLivePools();
  std::lock_guard<std::mutex> lock(Lock());
  g_ending = true;
  Outbox outbox;
  Encoder shutdown;
  shutdown.PutVarint(kShutdown);
  for (int r = 1; r < g_job.size; ++r) {
    outbox.Send(r, kJobTag, shutdown.bytes());
  }
  const auto deadline = std::chrono::steady_clock::now() + kShutdownPatience;
  Pacer pacer;
  for (int r = 1; r < g_job.size; ++r) {
    for (;;) {
      outbox.Progress();
      std::optional<Message> m = TryReceive(r, MPI_ANY_TAG);
      if (m.has_value()) {
        pacer.Reset();
        Decoder d(m->bytes);
        absl::StatusOr<uint64_t> kind = d.GetVarint();
        if (m->tag == kJobTag && kind.ok() && *kind == kBye) break;
        continue;  // a late message of a pool that is gone
      }
      if (std::chrono::steady_clock::now() > deadline) {
        EndJob(absl::StrCat("worker rank ", r, " did not end within ",
                            kShutdownPatience.count(),
                            " s of the program's end"));
      }
      Pause(pacer, 2000);
    }
  }
  while (!outbox.Empty()) outbox.Progress();
  MPI_Comm_free(&g_job.comm);
  MPI_Finalize();
}

void InitHook(int, char**) {
  if (!StartedByLauncher()) {
    g_job.why_not =
        "the program was not started by mpirun (run it as `mpirun -np N "
        "./prog`, N >= 2)";
    return;
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) {
    g_job.why_not = "MPI was initialised before mp::Init; mp owns MPI";
    return;
  }
  int provided = 0;
  int code =
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  if (code != MPI_SUCCESS) {
    g_job.why_not = Describe("MPI_Init_thread", code);
    return;
  }
  g_owner_pid = ::getpid();
  Check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
        "MPI_Comm_set_errhandler");
  Check(MPI_Comm_dup(MPI_COMM_WORLD, &g_job.comm), "MPI_Comm_dup");
  Check(MPI_Comm_set_errhandler(g_job.comm, MPI_ERRORS_RETURN),
        "MPI_Comm_set_errhandler");
  Check(MPI_Comm_rank(g_job.comm, &g_job.rank), "MPI_Comm_rank");
  Check(MPI_Comm_size(g_job.comm, &g_job.size), "MPI_Comm_size");
  if (provided < MPI_THREAD_SERIALIZED) {
    EndJob(absl::StrCat("the MPI library gives thread level ", provided,
                        "; mp needs MPI_THREAD_SERIALIZED (",
                        MPI_THREAD_SERIALIZED, ")"));
  }
  if (g_job.rank != 0) {
    if (!GreetAsWorker()) {
      // Rank 0 ends the job; until then this rank does nothing.
      std::this_thread::sleep_for(kGreetingPatience);
      EndJob(absl::StrCat("worker rank ", g_job.rank,
                          " runs a different build than rank 0"));
    }
    g_job.active = true;
    RunWorkerRank();
  }
  GreetAsRankZero();
  g_job.active = true;
  if (g_job.size < 2) {
    g_job.why_not =
        "the job has no worker rank (run it with mpirun -np N, N >= 2)";
  }
  std::atexit(EndOfProgram);
}

const bool g_hook_set = SetInitHook(&InitHook);

}  // namespace

const Job& CurrentJob() { return g_job; }

std::mutex& Lock() {
  static auto* mu = new std::mutex;
  return *mu;
}

bool Ending() { return g_ending; }

std::string BuildIdentity() {
  static const std::string* identity = [] {
    auto* id = new std::string;
    dl_iterate_phdr(FindBuildId, id);
    if (id->empty()) {
      // No build id: the program file's size and a 64-bit FNV-1a hash of
      // its bytes.
      std::ifstream in("/proc/self/exe", std::ios::binary);
      uint64_t hash = 1469598103934665603ull;
      uint64_t size = 0;
      char buffer[1 << 16];
      while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
          hash =
              (hash ^ static_cast<unsigned char>(buffer[i])) * 1099511628211ull;
        }
        size += static_cast<uint64_t>(in.gcount());
      }
      *id = absl::StrCat("size ", size, " fnv1a ", absl::Hex(hash));
    }
    return id;
  }();
  return *identity;
}

void PutStatus(Encoder& e, const absl::Status& s) {
  internal::PutStatus(e, s);
  absl::optional<absl::Cord> kind = s.GetPayload(kStatusKindUrl);
  Encode(e, kind.has_value() ? std::string(*kind) : std::string());
}

absl::Status TakeStatus(Decoder& d) {
  absl::Status s = internal::TakeStatus(d);
  std::string kind;
  if (Decode(d, kind).ok() && !kind.empty() && !s.ok()) {
    s.SetPayload(kStatusKindUrl, absl::Cord(kind));
  }
  return s;
}

std::optional<Message> TryReceive(int source, int tag) {
  int flag = 0;
  MPI_Status status;
  int code = MPI_Iprobe(source, tag, g_job.comm, &flag, &status);
  if (code != MPI_SUCCESS) Fail("MPI_Iprobe", code, source);
  if (!flag) return std::nullopt;
  int count = 0;
  code = MPI_Get_count(&status, MPI_BYTE, &count);
  if (code != MPI_SUCCESS) Fail("MPI_Get_count", code, status.MPI_SOURCE);
  Message m;
  m.source = status.MPI_SOURCE;
  m.tag = status.MPI_TAG;
  m.bytes.resize(static_cast<size_t>(count));
  code = MPI_Recv(m.bytes.data(), count, MPI_BYTE, m.source, m.tag, g_job.comm,
                  MPI_STATUS_IGNORE);
  if (code != MPI_SUCCESS) Fail("MPI_Recv", code, m.source);
  return m;
}

Outbox::~Outbox() {
  // Requests MPI still holds are left to it: only a program ending
  // abnormally gets here with sends outstanding.
  for (auto& p : sends_) {
    if (p->request != MPI_REQUEST_NULL) MPI_Request_free(&p->request);
    (void)p.release();
  }
}

void Outbox::Send(int dest, int tag, std::string bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    EndJob(absl::StrCat("a message of ", bytes.size(),
                        " bytes is larger than one MPI message can be"));
  }
  auto p = std::make_unique<Pending>();
  p->bytes = std::move(bytes);
  const int code = MPI_Isend(p->bytes.data(), static_cast<int>(p->bytes.size()),
                             MPI_BYTE, dest, tag, g_job.comm, &p->request);
  if (code != MPI_SUCCESS) Fail("MPI_Isend", code, dest);
  sends_.push_back(std::move(p));
}

bool Outbox::Progress() {
  bool any = false;
  while (!sends_.empty()) {
    int done = 0;
    const int code =
        MPI_Test(&sends_.front()->request, &done, MPI_STATUS_IGNORE);
    if (code != MPI_SUCCESS) Fail("MPI_Test", code, -1);
    if (!done) break;
    sends_.pop_front();
    any = true;
  }
  return any;
}

int64_t Pacer::NextSleepMicros(int64_t longest) {
  constexpr int kPolls = 200;
  constexpr int64_t kFirstSleep = 20;
  if (polls_ < kPolls) {
    ++polls_;
    return 0;
  }
  sleep_ = sleep_ == 0 ? kFirstSleep : std::min(sleep_ * 2, longest);
  return sleep_;
}

}  // namespace mpi
}  // namespace internal
}  // namespace mp
