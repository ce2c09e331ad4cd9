// A function object (a class with operator()) as the target.
// EXPECT-ERROR: mp::Process: the target must be a plain function

#include "mp/process.h"

struct Worker {
  void operator()(int n) const {}
};

void Misuse() { mp::Process p(Worker(), 7); }
