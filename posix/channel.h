// Copyright 2026 The mp Authors.
//
// Private to the POSIX backend: what process.cc needs from channel.cc.

#ifndef MP_POSIX_CHANNEL_H_
#define MP_POSIX_CHANNEL_H_

#include <cstdint>
#include <vector>

namespace mp {
namespace os {

// In a fork child, before anything else: closes every channel end this
// process holds (CreateChannelPair, AdoptChannel) except those in `keep`,
// and starts a new ChannelGeneration(), so that objects holding any end made
// before it, closed here or kept, know it is no longer theirs (a kept end is
// adopted again by the object it is decoded into). Lock-free and
// allocation-free. The record it reads names exactly the channel ends the
// child inherited, also those other threads of the parent made or closed
// as it forked: fork() waits for such a change to finish (channel.cc).
void CloseChannelsExcept(const std::vector<intptr_t>& keep);

// Closes `fd`, whatever it is (CloseOsHandle), and forgets it if it was a
// recorded channel end, both before any fork() or neither: a fork child
// never holds a channel end that is not recorded, nor takes a recorded
// number for one that another thread has reused meanwhile.
void CloseDescriptor(int fd);

// Records `fd`, a close-on-exec descriptor just made for a child's standard
// streams or working directory (stdio.cc), with the channel ends, so that
// every fork child that is not given it closes it (mp/internal/os.h,
// "Standard streams"). Returns the descriptor to use: `fd`, or a duplicate
// 3 or above if `fd` is below 3 (`fd` is closed then); -1 with errno if
// that duplicate could not be made (`fd` is closed too).
int RecordStreamDescriptor(int fd);
// pipe2(O_CLOEXEC), both ends 3 or above and recorded as
// RecordStreamDescriptor records, all under the lock every fork() takes:
// no fork child ever holds an end unrecorded. 0, or -1 with errno (nothing
// is left open).
int RecordedPipe(int (&ends)[2]);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_CHANNEL_H_
