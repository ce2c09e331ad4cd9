// Copyright 2026 The mp Authors.
//
// The children this process started, as Python's process._children: what
// ActiveChildren() lists, what the end of main() terminates (daemons) and
// joins (the rest), and what is reaped when a Process object goes away
// before its child ended. Platform-independent: it calls only mp/internal/os.h.
//
// A ChildRecord is shared by its Process object and by the registry. The
// registry drops it once the child is reaped; the record closes the OS
// handles when its last owner lets go.
//
// Thread-safety: all functions are thread-safe. A record's own mutex guards
// its fields; the registry has another, never held while waiting on a child.

#ifndef MP_INTERNAL_CHILDREN_H_
#define MP_INTERNAL_CHILDREN_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {

struct ChildRecord {
  ChildRecord(os::Child c, std::string n, bool d)
      : child(std::move(c)), name(std::move(n)), daemon(d) {}

  std::mutex mu;  // guards child and exit_code
  os::Child child;
  std::optional<int> exit_code;
  const std::string name;
  const bool daemon;
};

// Waits up to `timeout` for the record's child and records its exit code;
// a reaped child leaves the registry at once. The caller holds a shared_ptr
// to `record` (the registry's may be the one dropped). Holds the record's
// mutex while waiting (a Process is used from one thread
// at a time; other threads skip records that are busy).
absl::Status PollChild(ChildRecord& record, Deadline deadline);

// Adds a freshly started child.
void RegisterChild(std::shared_ptr<ChildRecord> record);

// Reaps every registered child that has ended (without blocking) and returns
// the pids of those still running, in start order.
std::vector<int64_t> ActiveChildPids();

// The end of the main code (Python's _exit_function): terminates daemon
// children, then joins every child, then ends this process's forkserver
// (os::StopForkserver). Safe to call more than once.
void FinishChildren();

// In a fresh child: forgets the parent's registry (a fork child has a copy
// whose mutex another thread may have held at fork time) and records
// whether this process is a daemon.
void ResetInChild(bool daemon);

// In a child whose target has ended, after FinishChildren(): drops its
// registry where children share the address space (a process's registry
// otherwise ends with the process).
void EndInChild();

// Whether this process is a daemon child (which may not start children).
bool CurrentIsDaemon();

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_CHILDREN_H_
