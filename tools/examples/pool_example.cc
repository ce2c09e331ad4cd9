#include <cstdio>
#include <vector>

#include "mp/init.h"
#include "mp/pool.h"

int Square(int x) { return x * x; }

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);

  // Python's `with Pool() as pool:` — destroying `pool` terminates it.
  absl::StatusOr<mp::Pool> pool = mp::Pool::Create();  // CpuCount() workers
  if (!pool.ok()) {
    std::fprintf(stderr, "%s\n", pool.status().ToString().c_str());
    return 1;
  }
  mp::Future<int> seven = pool->Submit(Square, 7);  // apply_async
  absl::StatusOr<std::vector<int>> squares =
      pool->Map(Square, std::vector<int>{1, 2, 3, 4});  // results in order
  absl::StatusOr<int> r = seven.Get();                  // or Get(timeout)
  if (!r.ok() || !squares.ok()) return 1;
  std::printf("7 squared is %d; squares:", *r);
  for (int s : *squares) std::printf(" %d", s);
  std::printf("\n");
  return 0;
}
