// A pointer parameter: the pointee would not exist in a spawned child.
// EXPECT-ERROR: mp::Process: a parameter is a pointer

#include "mp/process.h"

void Worker(const char* tag) {}

void Misuse() { mp::Process p(Worker, "tag"); }
