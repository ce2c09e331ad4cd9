// A target called with fewer arguments than it has parameters.
// EXPECT-ERROR: mp::Process: the number of arguments does not match

#include <string>

#include "mp/process.h"

void Worker(int n, std::string tag) {}

void Misuse() { mp::Process p(Worker, 7); }
