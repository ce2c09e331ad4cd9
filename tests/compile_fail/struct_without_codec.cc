// A parameter of a struct type that has no codec (no MP_FIELDS).
// EXPECT-ERROR: mp::Process: a parameter's type cannot be sent

#include "mp/process.h"

struct Point {
  int x = 0;
  int y = 0;
};

void Worker(const Point& p) {}

void Misuse() { mp::Process p(Worker, Point{1, 2}); }
