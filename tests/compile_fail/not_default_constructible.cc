// A parameter type with a codec but no default constructor: the child
// decodes into a default-constructed value.
// EXPECT-ERROR: mp::Process: a parameter's type must be default-constructible

#include "mp/process.h"

struct Tag {
  explicit Tag(int v) : value(v) {}
  int value;
  MP_FIELDS(value);
};

void Worker(Tag tag) {}

void Misuse() { mp::Process p(Worker, Tag(7)); }
