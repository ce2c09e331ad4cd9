// Copyright 2026 The mp Authors.

#include "mp/internal/children.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <new>

namespace mp {
namespace internal {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<ChildRecord>> children;
  std::atomic<bool> daemon{false};
};

// This process's registry. Leaked on purpose: it is used from atexit
// handlers, after static destructors may have run. Replaced (not
// destroyed) in a fork child, by one made in g_child_registry: a fork
// child allocates nothing for it (no malloc: no write to the allocator's
// pages, each of which would cost it a copy-on-write fault). A fork child
// of a fork child makes its own over the one it inherited, which belongs
// to its parent.
std::atomic<Registry*> g_registry{new Registry};
alignas(Registry) unsigned char g_child_registry[sizeof(Registry)];

// Where children share the address space (os::ChildrenShareAddressSpace),
// each emulated process has its own registry, found by its pid. The map is
// never used by a backend that forks, so its mutex cannot be inherited
// locked.
struct SharedRegistries {
  std::mutex mu;
  std::map<int64_t, Registry*> by_pid;
};
SharedRegistries& Shared() {
  static SharedRegistries* shared = new SharedRegistries;
  return *shared;
}

Registry* Current() {
  if (!os::ChildrenShareAddressSpace()) return g_registry.load();
  SharedRegistries& shared = Shared();
  std::lock_guard<std::mutex> lock(shared.mu);
  Registry*& r = shared.by_pid[os::CurrentPid()];
  if (r == nullptr) r = new Registry;
  return r;
}

// A snapshot of the registered records, taken under the registry's mutex.
std::vector<std::shared_ptr<ChildRecord>> Snapshot() {
  Registry* r = Current();
  std::lock_guard<std::mutex> lock(r->mu);
  return r->children;
}

void DropReaped() {
  Registry* r = Current();
  std::lock_guard<std::mutex> lock(r->mu);
  auto& v = r->children;
  for (size_t i = 0; i < v.size();) {
    std::unique_lock<std::mutex> record_lock(v[i]->mu, std::try_to_lock);
    if (record_lock.owns_lock() && v[i]->child.reaped) {
      record_lock.unlock();
      v.erase(v.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

// Drops a reaped child's record from the registry at once, so that its
// handles close as soon as its Process object goes (not at the next
// Start() or ActiveChildren()). Called with the record's mutex held; the
// registry's mutex is taken second here, and DropReaped only try-locks
// records while holding it, so the two cannot deadlock.
void Forget(const ChildRecord* record) {
  Registry* r = Current();
  std::lock_guard<std::mutex> lock(r->mu);
  auto& v = r->children;
  v.erase(std::remove_if(v.begin(), v.end(),
                         [record](const std::shared_ptr<ChildRecord>& c) {
                           return c.get() == record;
                         }),
          v.end());
}

}  // namespace

absl::Status PollChild(ChildRecord& record, Deadline deadline) {
  std::lock_guard<std::mutex> lock(record.mu);
  if (record.child.reaped) return absl::OkStatus();
  absl::StatusOr<std::optional<int>> code =
      os::WaitChild(record.child, deadline);
  if (!code.ok()) return code.status();
  if (code->has_value()) {
    record.exit_code = **code;
    Forget(&record);
  }
  return absl::OkStatus();
}

void RegisterChild(std::shared_ptr<ChildRecord> record) {
  Registry* r = Current();
  std::lock_guard<std::mutex> lock(r->mu);
  r->children.push_back(std::move(record));
}

std::vector<int64_t> ActiveChildPids() {
  std::vector<int64_t> alive;
  for (const std::shared_ptr<ChildRecord>& c : Snapshot()) {
    std::unique_lock<std::mutex> lock(c->mu, std::try_to_lock);
    if (!lock.owns_lock()) {  // someone is joining it: still running
      alive.push_back(c->child.pid);
      continue;
    }
    lock.unlock();
    (void)PollChild(*c, Deadline::Passed());
    std::lock_guard<std::mutex> relock(c->mu);
    if (!c->child.reaped) alive.push_back(c->child.pid);
  }
  DropReaped();
  return alive;
}

void FinishChildren() {
  const std::vector<std::shared_ptr<ChildRecord>> children = Snapshot();
  std::vector<std::shared_ptr<ChildRecord>> to_join;
  for (const std::shared_ptr<ChildRecord>& c : children) {
    if (c->daemon) {
      std::lock_guard<std::mutex> lock(c->mu);
      // A daemon that cannot be terminated (a thread, under the threads
      // backend) is left running, as Python leaves daemon threads.
      if (!os::SignalChild(c->child, os::Signal::kTerminate).ok()) continue;
    }
    to_join.push_back(c);
  }
  for (const std::shared_ptr<ChildRecord>& c : to_join) {
    (void)PollChild(*c, Deadline::Never());
  }
  DropReaped();
  // Its children are joined: the forkserver, if any, is no longer needed.
  os::StopForkserver();
}

void ResetInChild(bool daemon) {
  if (os::ChildrenShareAddressSpace()) {
    SharedRegistries& shared = Shared();
    Registry* fresh = new Registry;
    fresh->daemon.store(daemon);
    std::lock_guard<std::mutex> lock(shared.mu);
    Registry*& r = shared.by_pid[os::CurrentPid()];
    delete r;  // a pid reused by the threads backend: not expected
    r = fresh;
    return;
  }
  // The old registry (and any lock held in it) belongs to the parent; so
  // does what its vector holds, dropped here without running destructors.
  Registry* fresh = new (g_child_registry) Registry;
  fresh->daemon.store(daemon);
  g_registry.store(fresh);
}

void EndInChild() {
  if (!os::ChildrenShareAddressSpace()) return;  // the process ends anyway
  SharedRegistries& shared = Shared();
  std::lock_guard<std::mutex> lock(shared.mu);
  auto it = shared.by_pid.find(os::CurrentPid());
  if (it == shared.by_pid.end()) return;
  // Records still registered (abandoned daemons) keep their own state.
  delete it->second;
  shared.by_pid.erase(it);
}

bool CurrentIsDaemon() { return Current()->daemon.load(); }

}  // namespace internal
}  // namespace mp
