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
// allocation-free.
void CloseChannelsExcept(const std::vector<intptr_t>& keep);

// Called by CloseOsHandle for every descriptor it closes: if `fd` was a
// recorded channel end, it is no longer one (its number may be reused by
// anything). Lock-free.
void ForgetChannel(intptr_t fd);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_CHANNEL_H_
