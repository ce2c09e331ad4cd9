// A parameter whose type is only declared where the Process is made.
// EXPECT-ERROR: mp::Process: a parameter's type is incomplete here

#include "mp/process.h"
#include "mp/sync.h"

struct Config;

void Worker(const Config& config);

void Misuse(const Config& config) { mp::Process p(Worker, config); }
