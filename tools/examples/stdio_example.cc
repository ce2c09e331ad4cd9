#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "mp/init.h"
#include "mp/process.h"

// Upper-cases its stdin onto its stdout, and says hello on its stderr.
void Shout() {
  const char* greeting = std::getenv("GREETING");
  std::fprintf(stderr, "%s from the child\n", greeting ? greeting : "?");
  for (int c; (c = std::getchar()) != EOF;) std::putchar(std::toupper(c));
}

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);

  mp::Process p(Shout);
  absl::Status s = p.SetStdin(mp::Stdio::Pipe());
  if (s.ok()) s = p.SetStdout(mp::Stdio::Pipe());
  // Or Stdio::Null(), Stdio::File(path, Stdio::kAppend), Stdio::Inherit().
  if (s.ok()) s = p.SetStderr(mp::Stdio::Pipe());
  if (s.ok()) s = p.ExtendEnvironment({{"GREETING", "hello"}});
  if (s.ok()) s = p.SetWorkingDirectory("/");
  if (s.ok()) s = p.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  // Python's communicate(): feeds stdin and closes it, reads stdout and
  // stderr at once (no pipe fills up unread), waits for the child's end.
  absl::StatusOr<mp::CapturedOutput> got =
      p.Communicate("quiet words\n", absl::Seconds(30));
  if (!got.ok()) {
    std::fprintf(stderr, "%s\n", got.status().ToString().c_str());
    return 1;
  }
  std::printf("stdout: %sstderr: %sexit code %d\n", got->out.c_str(),
              got->err.c_str(), p.ExitCode().value());
  return 0;
}
