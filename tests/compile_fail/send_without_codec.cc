// Sending a value of a type that has no codec through a Pipe.
// EXPECT-ERROR: mp::Codec: this type cannot be sent to another process

#include "mp/pipe.h"

struct Point {
  int x = 0;
  int y = 0;
};

void Misuse(mp::Connection& c) { (void)c.Send(Point{1, 2}); }
