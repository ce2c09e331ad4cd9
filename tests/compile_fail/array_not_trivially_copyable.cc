// An Array of a type that owns memory, as Value's.
// EXPECT-ERROR: mp::Array<T>: T must be trivially copyable

#include <vector>

#include "mp/shared_memory.h"

void Misuse() {
  absl::StatusOr<mp::Array<std::vector<int>>> rows =
      mp::Array<std::vector<int>>::Create(4);
  (void)rows;
}
