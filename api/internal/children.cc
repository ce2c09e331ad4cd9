// Copyright 2026 The mp Authors.

#include "mp/internal/children.h"

#include <atomic>

namespace mp {
namespace internal {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<ChildRecord>> children;
};

// Leaked on purpose: it is used from atexit handlers, after static
// destructors may have run. Replaced (not destroyed) in a fork child.
std::atomic<Registry*> g_registry{new Registry};
std::atomic<bool> g_is_daemon{false};

// A snapshot of the registered records, taken under the registry's mutex.
std::vector<std::shared_ptr<ChildRecord>> Snapshot() {
  Registry* r = g_registry.load();
  std::lock_guard<std::mutex> lock(r->mu);
  return r->children;
}

void DropReaped() {
  Registry* r = g_registry.load();
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

}  // namespace

absl::Status PollChild(ChildRecord& record, absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(record.mu);
  if (record.child.reaped) return absl::OkStatus();
  absl::StatusOr<std::optional<int>> code =
      os::WaitChild(record.child, timeout);
  if (!code.ok()) return code.status();
  if (code->has_value()) record.exit_code = **code;
  return absl::OkStatus();
}

void RegisterChild(std::shared_ptr<ChildRecord> record) {
  Registry* r = g_registry.load();
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
    (void)PollChild(*c, absl::ZeroDuration());
    std::lock_guard<std::mutex> relock(c->mu);
    if (!c->child.reaped) alive.push_back(c->child.pid);
  }
  DropReaped();
  return alive;
}

void FinishChildren() {
  const std::vector<std::shared_ptr<ChildRecord>> children = Snapshot();
  for (const std::shared_ptr<ChildRecord>& c : children) {
    if (!c->daemon) continue;
    std::lock_guard<std::mutex> lock(c->mu);
    (void)os::SignalChild(c->child, os::Signal::kTerminate);
  }
  for (const std::shared_ptr<ChildRecord>& c : children) {
    (void)PollChild(*c, absl::InfiniteDuration());
  }
  DropReaped();
}

void ResetInChild(bool daemon) {
  // The old registry (and any lock held in it) belongs to the parent.
  g_registry.store(new Registry);
  g_is_daemon.store(daemon);
}

bool CurrentIsDaemon() { return g_is_daemon.load(); }

}  // namespace internal
}  // namespace mp
