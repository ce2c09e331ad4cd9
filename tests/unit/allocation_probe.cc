// Copyright 2026 The mp Authors.

#include "tests/unit/allocation_probe.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<bool> g_armed{false};
std::atomic<size_t> g_limit{0};
std::atomic<size_t> g_total{0};
std::atomic<size_t> g_largest{0};

void* CountedNew(size_t n) {
  if (g_armed.load(std::memory_order_relaxed)) {
    g_total.fetch_add(n, std::memory_order_relaxed);
    size_t largest = g_largest.load(std::memory_order_relaxed);
    while (n > largest && !g_largest.compare_exchange_weak(
                              largest, n, std::memory_order_relaxed)) {
    }
    if (n > g_limit.load(std::memory_order_relaxed)) throw std::bad_alloc();
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(size_t n) { return CountedNew(n); }
void* operator new[](size_t n) { return CountedNew(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedNew(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedNew(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace mp {
namespace test_support {

AllocationProbe::AllocationProbe(size_t limit) {
  g_limit.store(limit);
  g_total.store(0);
  g_largest.store(0);
  g_armed.store(true);
}

void AllocationProbe::Stop() { g_armed.store(false); }
size_t AllocationProbe::total() const { return g_total.load(); }
size_t AllocationProbe::largest() const { return g_largest.load(); }

}  // namespace test_support
}  // namespace mp
