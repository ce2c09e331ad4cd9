// Shared memory types that must compile, passed as Process arguments.
// EXPECT: compiles

#include <cstdint>

#include "mp/process.h"
#include "mp/shared_memory.h"

struct Pixel {
  uint8_t r, g, b, a;
};
struct Wide {
  double x, y, z;  // larger than a lock-free atomic: plain copies
};

static_assert(mp::Value<int64_t>::kAtomic);
static_assert(mp::Value<Pixel>::kAtomic);
static_assert(!mp::Value<Wide>::kAtomic);

void Worker(mp::SharedMemory m, mp::Value<int> count, mp::Value<Wide> where,
            mp::Array<Pixel> image, const mp::Value<double>& scale) {}

void Use() {
  auto m = mp::SharedMemory::Create(4096);
  auto count = mp::Value<int>::Create(0);
  auto where = mp::Value<Wide>::Create(Wide{1, 2, 3}, false);
  auto image = mp::Array<Pixel>::Create(640 * 480);
  auto scale = mp::Value<double>::Create(1.5);
  mp::Process p(Worker, *m, *count, *where, *image, *scale);
  count->FetchAdd(1);
  int expected = 1;
  count->CompareExchange(expected, 2);
  where->Store(where->Load());
  scale->Store(scale->Load() * 2);
  image->span()[0] = (*image)[1];
  mp::Guard<mp::Lock> guard(count->GetLock());
}
