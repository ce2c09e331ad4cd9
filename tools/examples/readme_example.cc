#include <cstdio>
#include <string>

#include "mp/init.h"
#include "mp/process.h"

void Greet(int n, std::string who) {
  std::printf("child %lld (parent %lld): hello %s #%d\n",
              static_cast<long long>(mp::CurrentPid()),
              static_cast<long long>(mp::ParentPid()), who.c_str(), n);
}

int main(int argc, char** argv) {
  // C++'s `if __name__ == '__main__':`; when `scope` ends, daemon children
  // are terminated and the others joined, as when Python's main code ends.
  mp::MainScope scope = mp::Init(argc, argv);

  mp::Process p(Greet, 7, std::string("world"));
  if (absl::Status s = p.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  if (absl::Status s = p.Join(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("parent %lld: child exited with %d\n",
              static_cast<long long>(mp::CurrentPid()), p.ExitCode().value());
  return p.ExitCode().value();
}
