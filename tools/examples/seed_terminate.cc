// Copyright 2026 The mp Authors.
//
// Seed §3.6: terminate() is asynchronous: is_alive() straight after may
// still be True; a moment later it is False.
//
//   p.start(); print(p.is_alive()); time.sleep(2)
//   p.terminate(); print(p.is_alive())   # may still be True
//   time.sleep(2); print(p.is_alive())   # False

#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

void Son1() {
  for (;;) {
    seed::Print("son1 alive");
    seed::Sleep(0.5);
  }
}

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  seed::UseStartMethodFrom(argc, argv);
  mp::Process p(Son1);
  if (!p.Start().ok()) return 1;
  seed::Print("before terminate: ", seed::Bool(p.IsAlive()));
  seed::Sleep(2);
  if (!p.Terminate().ok()) return 1;  // asynchronous, non-blocking
  seed::Print("right after terminate: ", seed::Bool(p.IsAlive()));
  seed::Sleep(2);
  seed::Print("a moment later: ", seed::Bool(p.IsAlive()));
  seed::Print("exit code: ", p.ExitCode().value_or(0));
}
