// Copyright 2026 The mp Authors.
//
// Seed §3.3: start ten children, then join them all, then print — the last
// line is always the parent's.
//
//   for i in range(10): p = Process(target=func, args=(i,)); p.start();
//   l.append(p) for p in l: p.join() print('hahhahaha')

#include <vector>

#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

void Func(int a) { seed::Print("start ", a); }

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  seed::UseStartMethodFrom(argc, argv);
  std::vector<mp::Process> l;
  for (int i = 0; i < 10; ++i) {
    l.emplace_back(Func, i);
    if (!l.back().Start().ok()) return 1;  // asynchronous, non-blocking
  }
  for (mp::Process& p : l) {
    if (!p.Join().ok()) return 1;  // blocks until that child has ended
  }
  seed::Print("hahhahaha");
}
