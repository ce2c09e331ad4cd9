// Receiving a type that has no codec from a Queue.
// EXPECT-ERROR: mp::Codec: this type cannot be sent to another process

#include "mp/queue.h"

struct Point {
  int x = 0;
  int y = 0;
};

void Misuse(mp::Queue& q) { (void)q.Get<Point>(); }
