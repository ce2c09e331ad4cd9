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
// process holds (CreateChannelPair, AdoptChannel) except those in `keep`.
// Lock-free and allocation-free.
void CloseChannelsExcept(const std::vector<intptr_t>& keep);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_CHANNEL_H_
