// A lambda with captures as the target.
// EXPECT-ERROR: mp::Process: the target must be a plain function

#include "mp/process.h"

void Misuse() {
  int n = 7;
  mp::Process p([n]() { (void)n; });
}
