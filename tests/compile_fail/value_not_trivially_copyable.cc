// A Value of a type that owns memory: only its bytes would be shared, so
// another process would see a pointer into this one's heap.
// EXPECT-ERROR: mp::Value<T>: T must be trivially copyable

#include <string>

#include "mp/process.h"
#include "mp/shared_memory.h"

void Worker(mp::Value<std::string> name) {}

void Misuse() {
  absl::StatusOr<mp::Value<std::string>> name =
      mp::Value<std::string>::Create("x");
  mp::Process p(Worker, *name);
}
