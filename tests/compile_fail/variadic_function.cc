// A C variadic function as the target: its arguments have no types to
// encode.
// EXPECT-ERROR: mp::Process: the target must be a plain function

#include "mp/process.h"

void Worker(int n, ...) {}

void Misuse() { mp::Process p(Worker, 7); }
