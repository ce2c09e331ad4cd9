// Copyright 2026 The mp Authors.
//
// Seed §3.7, class style with constructor arguments: MYserver1(1, 2) keeps
// its arguments as fields and runs forever as a daemon; MYserver2 prints five
// times. The daemon ends with main's code; main waits for MYserver2.
//
//   class MYserver1(Process):
//       def __init__(self, a, b):
//           super().__init__(); self.x = a; self.y = b
//       def run(self):
//           while True: time.sleep(1); print('MYserver1')

#include <string>

#include "absl/time/clock.h"
#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

class MyServer1 : public mp::Process {
 public:
  MyServer1(int a, int b)
      : Process(mp::RunsAs<MyServer1>(), a, b), x_(a), y_(b) {}
  void Run() override {
    for (;;) {
      seed::Sleep(1);
      seed::Print("MYserver1 x=", x_, " y=", y_);
    }
  }

 private:
  int x_;
  int y_;
};

class MyServer2 : public mp::Process {
 public:
  MyServer2() : Process(mp::RunsAs<MyServer2>()) {}
  void Run() override {
    for (int i = 0; i < 5; ++i) {
      seed::Sleep(1);
      seed::Print("MYserver2222");
    }
  }
};

int main(int argc, char** argv) {
  const absl::Time a = absl::Now();
  {
    mp::MainScope scope = mp::Init(argc, argv);
    seed::UseStartMethodFrom(argc, argv);
    MyServer1 cp1(1, 2);
    (void)cp1.SetDaemon(true);
    if (!cp1.Start().ok()) return 1;
    seed::Sleep(2);
    MyServer2 cp2;
    if (!cp2.Start().ok()) return 1;
    seed::Sleep(4);
    seed::Print("main code ends after ", absl::ToDoubleSeconds(absl::Now() - a),
                "s");
  }  // cp1 (daemon) is terminated here; cp2 is joined
  seed::Print("all children done after ",
              absl::ToDoubleSeconds(absl::Now() - a), "s");
}
