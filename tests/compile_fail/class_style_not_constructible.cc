// Class style: the arguments passed to the base do not construct the class.
// EXPECT-ERROR: mp::Process class style: the class must be constructible

#include <string>

#include "mp/process.h"

class Server : public mp::Process {
 public:
  explicit Server(int port)
      : Process(mp::RunsAs<Server>(), std::to_string(port)), port_(port) {}
  void Run() override {}

 private:
  int port_;
};

void Misuse() { Server s(80); }
