// A container of a struct type that has no codec.
// EXPECT-ERROR: mp::Process: a parameter's type cannot be sent

#include <vector>

#include "mp/process.h"

struct Point {
  int x = 0;
  int y = 0;
};

void Worker(std::vector<Point> points) {}

void Misuse() { mp::Process p(Worker, std::vector<Point>(3)); }
