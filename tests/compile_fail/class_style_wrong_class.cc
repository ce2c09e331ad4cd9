// Class style: RunsAs names a class that does not derive from mp::Process.
// EXPECT-ERROR: mp::RunsAs<D>: D must be the class deriving from mp::Process

#include "mp/process.h"

struct Config {
  explicit Config(int port) : port(port) {}
  int port;
};

class Server : public mp::Process {
 public:
  explicit Server(int port) : Process(mp::RunsAs<Config>(), port) {}
};

void Misuse() { Server s(80); }
