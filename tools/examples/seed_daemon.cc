// Copyright 2026 The mp Authors.
//
// Seed §3.4: a daemon ends when main's *code* ends, not when the main
// process ends; a non-daemon child is waited for.
//
//   def son1():
//       while True: print('son1 alive'); time.sleep(0.5)
//   def son2():
//       for i in range(5): print('son2222'); time.sleep(1)
//   p = Process(target=son1); p.daemon = True; p.start()
//   p2 = Process(target=son2); p2.start()
//   time.sleep(2)

#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

void Son1() {
  for (;;) {
    seed::Print("son1 alive");
    seed::Sleep(0.5);
  }
}

void Son2() {
  for (int i = 0; i < 5; ++i) {
    seed::Print("son2222");
    seed::Sleep(1);
  }
}

int main(int argc, char** argv) {
  {
    mp::MainScope scope = mp::Init(argc, argv);
    seed::UseStartMethodFrom(argc, argv);
    mp::Process p(Son1);
    (void)p.SetDaemon(true);
    if (!p.Start().ok()) return 1;
    mp::Process p2(Son2);
    if (!p2.Start().ok()) return 1;
    seed::Sleep(2);
    seed::Print("main code ends");
  }
  seed::Print("main process ends");
}
