// Class style: a constructor argument of a type that has no codec.
// EXPECT-ERROR: mp::Process class style: an argument's type cannot be sent

#include "mp/process.h"

struct Options {
  int port = 0;
};

class Server : public mp::Process {
 public:
  explicit Server(Options options)
      : Process(mp::RunsAs<Server>(), options), options_(options) {}
  void Run() override {}

 private:
  Options options_;
};

void Misuse() { Server s(Options{80}); }
