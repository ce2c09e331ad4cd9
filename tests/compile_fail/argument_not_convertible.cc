// An argument that does not convert to its parameter's type.
// EXPECT-ERROR: mp::Process: an argument does not convert

#include <string>

#include "mp/process.h"

void Worker(int n) {}

void Misuse() { mp::Process p(Worker, std::string("seven")); }
