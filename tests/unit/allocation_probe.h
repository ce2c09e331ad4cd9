// Copyright 2026 The mp Authors.
//
// Test support: measures what code allocates. Linking this library
// replaces the global operator new and delete of the whole test binary:
// while an AllocationProbe is alive, every operator new records its request
// and any request above the probe's limit throws std::bad_alloc instead of
// being made (so code that would reserve gigabytes is caught, not run).
// All the non-aligned forms are replaced together, so new and delete agree
// (malloc/free) also under ASan, which otherwise checks that they match.
// Over-aligned allocations are not counted.

#ifndef MP_TESTS_UNIT_ALLOCATION_PROBE_H_
#define MP_TESTS_UNIT_ALLOCATION_PROBE_H_

#include <cstddef>

namespace mp {
namespace test_support {

// Measures the heap requests made between construction and Stop(); a
// single request above `limit` bytes fails with std::bad_alloc. One probe
// at a time.
class AllocationProbe {
 public:
  explicit AllocationProbe(size_t limit);
  ~AllocationProbe() { Stop(); }
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;
  void Stop();
  size_t total() const;
  size_t largest() const;
};

}  // namespace test_support
}  // namespace mp

#endif  // MP_TESTS_UNIT_ALLOCATION_PROBE_H_
