// Copyright 2026 The mp Authors.
//
// Seed §3.5: is_alive() tells whether the child is still running.
// (The seed's son1 loops forever and nothing ends it, so the program never
// exits; here it loops five times, so the port terminates.)

#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

void Son1() {
  for (int i = 0; i < 5; ++i) {
    seed::Print("son1 alive");
    seed::Sleep(0.5);
  }
}

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  seed::UseStartMethodFrom(argc, argv);
  mp::Process p(Son1);
  if (!p.Start().ok()) return 1;
  seed::Print("is_alive after start: ", seed::Bool(p.IsAlive()));
  seed::Sleep(2);
  if (!p.Join().ok()) return 1;
  seed::Print("is_alive after join: ", seed::Bool(p.IsAlive()));
}
