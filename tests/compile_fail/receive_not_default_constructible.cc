// Receiving a type that has a codec but no default constructor.
// EXPECT-ERROR: mp::Codec: a type received from another process must be

#include "mp/pipe.h"

struct Tag {
  explicit Tag(int v) : value(v) {}
  int value;
  MP_FIELDS(value);
};

void Misuse(mp::Connection& c) { (void)c.Recv<Tag>(); }
