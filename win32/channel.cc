// Copyright 2026 The mp Authors.
//
// Channels on Win32 (mp/internal/os.h). The mirror of posix/channel.cc.
//
// The record channel itself — message-mode named pipes with overlapped I/O,
// random names, PIPE_REJECT_REMOTE_CLIENTS and a current-user-only security
// descriptor — is the Win32 issue's work; until it lands Pipe and Queue are
// not available on this backend (their conformance cases run on posix-fork
// and posix-spawn only; see tests/conformance/BUILD).

#include "mp/internal/os.h"

namespace mp {
namespace os {

// Win32 has no fork, and every child gets an explicit handle list: a
// received channel end needs no tracking.
void AdoptChannel(intptr_t) {}

}  // namespace os
}  // namespace mp
