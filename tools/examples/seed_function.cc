// Copyright 2026 The mp Authors.
//
// Seed §3, function style: the child prints its pid and its parent's pid;
// the parent's pid is the main process's pid.
//
//   def func():
//       print('start', os.getpid())
//       time.sleep(3)
//       print('end', os.getpid(), os.getppid())
//   if __name__ == '__main__':
//       p = Process(target=func); p.start()
//       print('main1', os.getpid())
//   print('main2', os.getpid())

#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

void Func() {
  seed::Print("start ", mp::CurrentPid());
  seed::Sleep(3);
  seed::Print("end ", mp::CurrentPid(), " ", mp::ParentPid());
}

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);  // if __name__ == '__main__':
  seed::UseStartMethodFrom(argc, argv);
  mp::Process p(Func);
  if (!p.Start().ok()) return 1;
  seed::Print("main1 ", mp::CurrentPid());
  // Python prints main2 in the parent only when it runs in the parent's
  // module code; with mp::Init nothing after it ever runs in a child.
  seed::Print("main2 ", mp::CurrentPid());
}
