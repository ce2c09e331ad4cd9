// Copyright 2026 The mp Authors.
//
// A child's standard streams, environment and working directory, as the
// parent chose them before Start() (mp/stdio.h, Process::SetStdin ...
// SetWorkingDirectory): the same on fork, where the child applies them
// before its target, as on spawn and win32, where the new program starts
// with them. Children write and read their streams with the OS's own calls
// (write(2) / WriteFile), so that bytes arrive exactly as written.
//
// Documented difference: a child of the threads backend is a thread that
// shares its process's streams, environment and working directory;
// Start() refuses the options there (Unimplemented), before it opens or
// creates anything, and each case checks that much.

#if MP_OS_WINDOWS
#include <windows.h>
#else
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mp/process.h"
#include "mp/status.h"
#include "mp/stdio.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

constexpr char kThreadsShare[] =
    "a child thread shares its process's standard streams, environment and "
    "working directory: Start() refuses to set them (Unimplemented)";

// On the threads backend: `p`, set up with some stream, environment or
// working directory option, must be refused by Start() without a child;
// the case ends there as a documented difference.
#define MP_REFUSED_ON_THREADS(p)                              \
  do {                                                        \
    if (TypeParam::kThreads) {                                \
      const absl::Status refused = (p).Start();               \
      EXPECT_TRUE(absl::IsUnimplemented(refused)) << refused; \
      EXPECT_FALSE((p).Pid().has_value());                    \
      MP_DOCUMENTED_DIFFERENCE(kThreadsShare);                \
    }                                                         \
  } while (0)

constexpr int kStdout = 1;
constexpr int kStderr = 2;

// Writes all of `bytes` to this process's stdout or stderr.
bool WriteStream(int stream, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t chunk = std::min<size_t>(bytes.size() - done, 1 << 20);
#if MP_OS_WINDOWS
    DWORD n = 0;
    HANDLE h =
        GetStdHandle(stream == kStdout ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
    if (!WriteFile(h, bytes.data() + done, static_cast<DWORD>(chunk), &n,
                   nullptr)) {
      return false;
    }
#else
    const ssize_t n = ::write(stream, bytes.data() + done, chunk);
    if (n < 0) return false;
#endif
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads up to `size` bytes of this process's stdin: the number read, 0 at
// end of file, -1 on error.
int64_t ReadStdin(char* out, size_t size) {
#if MP_OS_WINDOWS
  DWORD n = 0;
  if (!ReadFile(GetStdHandle(STD_INPUT_HANDLE), out, static_cast<DWORD>(size),
                &n, nullptr)) {
    return GetLastError() == ERROR_BROKEN_PIPE ? 0 : -1;
  }
  return n;
#else
  ssize_t n;
  do {
    n = ::read(0, out, size);
  } while (n < 0 && errno == EINTR);
  return n;
#endif
}

// `size` bytes that tell position and `seed` apart, every byte value
// included (newlines and NULs too: nothing may translate them).
std::string Pattern(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>((i * 131 + (i >> 12) + seed * 7) & 0xff);
  }
  return s;
}

// The child's transformation of its stdin (EchoTransformed).
char Transform(char c) { return static_cast<char>(c ^ 0x5a); }

// Writes `size` bytes of Pattern(size, 1) to stdout and of Pattern(size,
// 2) to stderr, alternating 1 MiB at a time: a parent that read one pipe to
// its end before the other would wait for ever.
void WriteBoth(int64_t size) {
  const std::string out = Pattern(static_cast<size_t>(size), 1);
  const std::string err = Pattern(static_cast<size_t>(size), 2);
  constexpr size_t kPiece = 1 << 20;
  for (size_t at = 0; at < out.size(); at += kPiece) {
    if (!WriteStream(kStdout, out.substr(at, kPiece))) Exit(21);
    if (!WriteStream(kStderr, err.substr(at, kPiece))) Exit(22);
  }
  Exit(0);
}

// Copies stdin to stdout, transformed, as it arrives, until end of file;
// exits 0 once stdin ended normally.
void EchoTransformed() {
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    const int64_t n = ReadStdin(buffer.data(), buffer.size());
    if (n < 0) Exit(31);
    if (n == 0) Exit(0);
    std::string out(buffer.data(), static_cast<size_t>(n));
    std::transform(out.begin(), out.end(), out.begin(), Transform);
    if (!WriteStream(kStdout, out)) Exit(32);
  }
}

// Writes "ready" to stdout, then copies stdin, reversed, to stdout once
// it has ended.
void ReadyThenReverse() {
  if (!WriteStream(kStdout, "ready")) Exit(41);
  std::string in;
  std::vector<char> buffer(4096);
  for (;;) {
    const int64_t n = ReadStdin(buffer.data(), buffer.size());
    if (n < 0) Exit(42);
    if (n == 0) break;
    in.append(buffer.data(), static_cast<size_t>(n));
  }
  std::reverse(in.begin(), in.end());
  Exit(WriteStream(kStdout, in) ? 0 : 43);
}

// With stdin, stdout and stderr on the null device: writes succeed and
// vanish, stdin is at end of file at once.
void UseNullStreams() {
  const std::string big = Pattern(1 << 20, 3);
  if (!WriteStream(kStdout, big)) Exit(51);
  if (!WriteStream(kStderr, big)) Exit(52);
  char c;
  Exit(ReadStdin(&c, 1) == 0 ? 0 : 53);
}

void WriteText(std::string out, std::string err) {
  Exit(WriteStream(kStdout, out) && WriteStream(kStderr, err) ? 0 : 61);
}

// Writes "first", tells the parent, then once released writes "second".
void FirstThenSecond(Event wrote_first, Event release) {
  if (!WriteStream(kStdout, "first") || !wrote_first.Set().ok()) Exit(71);
  if (!release.Wait(kPatience).ok()) Exit(72);
  Exit(WriteStream(kStdout, "second") ? 0 : 73);
}

constexpr char kChildVar[] = "MP_STDIO_CHILD_VAR";
constexpr char kParentVar[] = "MP_STDIO_PARENT_VAR";

// Prints the two variables as "child=<value>;parent=<value>", "(unset)"
// for one that is not set.
void PrintVariables() {
  const char* child = std::getenv(kChildVar);
  const char* parent = std::getenv(kParentVar);
  Exit(WriteStream(kStdout,
                   absl::StrCat("child=", child ? child : "(unset)",
                                ";parent=", parent ? parent : "(unset)"))
           ? 0
           : 81);
}

constexpr char kMarker[] = "mp-stdio-marker";

// Prints the contents of kMarker, a path relative to the working
// directory.
void PrintMarker() {
  std::ifstream in(kMarker, std::ios::binary);
  if (!in) Exit(91);
  std::stringstream text;
  text << in.rdbuf();
  Exit(WriteStream(kStdout, text.str()) ? 0 : 92);
}

// Sets a variable in this process's environment for its lifetime.
class ParentVariable {
 public:
  ParentVariable(const char* name, const char* value) : name_(name) {
#if MP_OS_WINDOWS
    _putenv_s(name, value);
#else
    setenv(name, value, 1);
#endif
  }
  ~ParentVariable() {
#if MP_OS_WINDOWS
    _putenv_s(name_, "");
#else
    unsetenv(name_);
#endif
  }

 private:
  const char* const name_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

template <typename B>
class StdioTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(StdioTest);

// 10 MiB on each of stdout and stderr, read at once while the child writes
// them (Communicate), arrive separately and exactly.
TYPED_TEST_P(StdioTest, CapturesTenMebibytesOfStdoutAndStderrSeparately) {
  constexpr int64_t kSize = 10 << 20;
  Process p = MakeProcess<TypeParam>(WriteBoth, kSize);
  ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
  ASSERT_TRUE(p.SetStderr(Stdio::Pipe()).ok());
  MP_REFUSED_ON_THREADS(p);
  ASSERT_TRUE(p.Start().ok());
  absl::StatusOr<CapturedOutput> got = p.Communicate({}, kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(p.ExitCode(), 0);
  ASSERT_EQ(got->out.size(), static_cast<size_t>(kSize));
  ASSERT_EQ(got->err.size(), static_cast<size_t>(kSize));
  EXPECT_TRUE(got->out == Pattern(kSize, 1)) << "stdout differs";
  EXPECT_TRUE(got->err == Pattern(kSize, 2)) << "stderr differs";
}

// Input fed from the parent reaches the child, which sees end of file once
// it is all written; the child answers as it reads (1 MiB: more than a
// pipe holds either way).
TYPED_TEST_P(StdioTest, StdinFedFromParentWithEndOfFile) {
  Process p = MakeProcess<TypeParam>(EchoTransformed);
  ASSERT_TRUE(p.SetStdin(Stdio::Pipe()).ok());
  ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
  MP_REFUSED_ON_THREADS(p);
  ASSERT_TRUE(p.Start().ok());
  const std::string input = Pattern(1 << 20, 4);
  absl::StatusOr<CapturedOutput> got = p.Communicate(input, kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(p.ExitCode(), 0);
  std::string expected = input;
  std::transform(expected.begin(), expected.end(), expected.begin(), Transform);
  EXPECT_EQ(got->out.size(), expected.size());
  EXPECT_TRUE(got->out == expected) << "stdout differs";
  EXPECT_EQ(got->err, "");  // stderr was not a pipe
}

// The parent's ends work while the child runs, before any Join: read what
// it wrote, write to it, close its stdin, read the rest, then end of file.
TYPED_TEST_P(StdioTest, PipesWorkWhileTheChildRuns) {
  Process p = MakeProcess<TypeParam>(ReadyThenReverse);
  ASSERT_TRUE(p.SetStdin(Stdio::Pipe()).ok());
  ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
  MP_REFUSED_ON_THREADS(p);
  EXPECT_EQ(p.StdoutPipe().status().code(),
            absl::StatusCode::kFailedPrecondition);  // not started
  ASSERT_TRUE(p.Start().ok());
  absl::StatusOr<ByteStream> in = p.StdinPipe();
  absl::StatusOr<ByteStream> out = p.StdoutPipe();
  ASSERT_TRUE(in.ok() && out.ok());
  EXPECT_TRUE(in->writable() && !in->readable());
  EXPECT_TRUE(out->readable() && !out->writable());
  EXPECT_EQ(p.StderrPipe().status().code(),
            absl::StatusCode::kFailedPrecondition);  // not a pipe
  EXPECT_EQ(out->Write("x").code(), absl::StatusCode::kFailedPrecondition);
  std::string ready;
  while (ready.size() < 5) {
    absl::StatusOr<std::string> got = out->Read(5 - ready.size(), kPatience);
    ASSERT_TRUE(got.ok()) << got.status();
    ready += *got;
  }
  EXPECT_EQ(ready, "ready");
  EXPECT_TRUE(p.IsAlive());  // it waits for the end of its stdin
  // Nothing more until stdin ends: a short read times out.
  absl::StatusOr<std::string> early = out->Read(16, absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(early.status())) << early.status();
  ASSERT_TRUE(in->Write("abc", kPatience).ok());
  ASSERT_TRUE(in->Write("def", kPatience).ok());
  ASSERT_TRUE(in->Close().ok());
  EXPECT_TRUE(in->closed());
  absl::StatusOr<std::string> rest = out->ReadAll(kPatience);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, "fedcba");
  absl::StatusOr<std::string> eof = out->Read(1, kPatience);
  EXPECT_TRUE(IsEndOfFile(eof.status())) << eof.status();
  EXPECT_EQ(JoinCode(p), 0);
}

// A child that has ended cannot be written to: EndOfFile, never a signal
// that ends the parent.
TYPED_TEST_P(StdioTest, WritingToAnEndedChildIsEndOfFile) {
  Process p = MakeProcess<TypeParam>(WriteText, std::string(), std::string());
  ASSERT_TRUE(p.SetStdin(Stdio::Pipe()).ok());
  MP_REFUSED_ON_THREADS(p);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  absl::StatusOr<ByteStream> in = p.StdinPipe();
  ASSERT_TRUE(in.ok());
  // More than any pipe holds, so that some write must reach the reader.
  const absl::Status s = in->Write(Pattern(4 << 20, 5), kPatience);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
}

// The null device: output vanishes without blocking, input is at its end.
TYPED_TEST_P(StdioTest, NullStreams) {
  Process p = MakeProcess<TypeParam>(UseNullStreams);
  ASSERT_TRUE(p.SetStdin(Stdio::Null()).ok());
  ASSERT_TRUE(p.SetStdout(Stdio::Null()).ok());
  ASSERT_TRUE(p.SetStderr(Stdio::Null()).ok());
  MP_REFUSED_ON_THREADS(p);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_EQ(p.StdoutPipe().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Files: truncated or appended to for output, read for input; opened by
// the parent, relative to its own working directory.
TYPED_TEST_P(StdioTest, FilesTruncatedAppendedAndRead) {
  const std::string out_path = TempPath("stdout");
  const std::string err_path = TempPath("stderr");
  const std::string in_path = TempPath("stdin");
  WriteFile(out_path, "old stdout ");
  WriteFile(err_path, "old stderr ");
  WriteFile(in_path, "input text");
  {
    Process p = MakeProcess<TypeParam>(WriteText, std::string("new stdout"),
                                       std::string("new stderr"));
    ASSERT_TRUE(p.SetStdout(Stdio::File(out_path, Stdio::kTruncate)).ok());
    ASSERT_TRUE(p.SetStderr(Stdio::File(err_path, Stdio::kAppend)).ok());
    if (TypeParam::kThreads) {
      EXPECT_TRUE(absl::IsUnimplemented(p.Start()));
      // Refused before anything was opened: nothing was truncated.
      EXPECT_EQ(ReadFile(out_path), "old stdout ");
      for (const std::string& path : {out_path, err_path, in_path}) {
        EXPECT_EQ(std::remove(path.c_str()), 0) << path;
      }
      MP_DOCUMENTED_DIFFERENCE(kThreadsShare);
    }
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(JoinCode(p), 0);
  }
  EXPECT_EQ(ReadFile(out_path), "new stdout");
  EXPECT_EQ(ReadFile(err_path), "old stderr new stderr");
  {
    Process p = MakeProcess<TypeParam>(EchoTransformed);
    ASSERT_TRUE(p.SetStdin(Stdio::File(in_path)).ok());
    ASSERT_TRUE(p.SetStdout(Stdio::File(out_path, Stdio::kAppend)).ok());
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(JoinCode(p), 0);
  }
  std::string echoed = "input text";
  std::transform(echoed.begin(), echoed.end(), echoed.begin(), Transform);
  EXPECT_EQ(ReadFile(out_path), "new stdout" + echoed);
  for (const std::string& path : {out_path, err_path, in_path}) {
    EXPECT_EQ(std::remove(path.c_str()), 0) << path;
  }
}

// Extend: the parent's variables and the new ones, which override; replace:
// exactly the new ones.
TYPED_TEST_P(StdioTest, EnvironmentExtendedOrReplaced) {
  ParentVariable parent_var(kParentVar, "kept");
  {
    Process p = MakeProcess<TypeParam>(PrintVariables);
    ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
    ASSERT_TRUE(p.ExtendEnvironment({{kChildVar, "added"}}).ok());
    MP_REFUSED_ON_THREADS(p);
    ASSERT_TRUE(p.Start().ok());
    absl::StatusOr<CapturedOutput> got = p.Communicate({}, kPatience);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->out, "child=added;parent=kept");
    EXPECT_EQ(p.ExitCode(), 0);
  }
  {
    Process p = MakeProcess<TypeParam>(PrintVariables);
    ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
    ASSERT_TRUE(p.ExtendEnvironment({{kParentVar, "overridden"}}).ok());
    ASSERT_TRUE(p.Start().ok());
    absl::StatusOr<CapturedOutput> got = p.Communicate({}, kPatience);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->out, "child=(unset);parent=overridden");
  }
  {
    std::map<std::string, std::string> only = {{kChildVar, "alone"}};
#if MP_OS_WINDOWS
    // What a Windows program needs to start at all (Python's documentation
    // says the same of its env=).
    if (const char* root = std::getenv("SystemRoot")) only["SystemRoot"] = root;
#endif
    Process p = MakeProcess<TypeParam>(PrintVariables);
    ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
    ASSERT_TRUE(p.SetEnvironment(only).ok());
    ASSERT_TRUE(p.Start().ok());
    absl::StatusOr<CapturedOutput> got = p.Communicate({}, kPatience);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->out, "child=alone;parent=(unset)");
    EXPECT_EQ(p.ExitCode(), 0);
  }
  Process bad = MakeProcess<TypeParam>(PrintVariables);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.ExtendEnvironment({{"A=B", "x"}})));
  EXPECT_TRUE(absl::IsInvalidArgument(bad.SetEnvironment({{"", "x"}})));
}

// The child starts in the directory chosen: it finds a file there by a
// relative path.
TYPED_TEST_P(StdioTest, WorkingDirectoryApplied) {
  const std::string dir = TempPath("cwd");
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  const std::string marker = (std::filesystem::path(dir) / kMarker).string();
  WriteFile(marker, "found it");
  Process p = MakeProcess<TypeParam>(PrintMarker);
  ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
  ASSERT_TRUE(p.SetWorkingDirectory(dir).ok());
  if (!TypeParam::kThreads) {
    ASSERT_TRUE(p.Start().ok());
    absl::StatusOr<CapturedOutput> got = p.Communicate({}, kPatience);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->out, "found it");
    EXPECT_EQ(p.ExitCode(), 0);
  }
  std::error_code ignored;
  EXPECT_TRUE(std::filesystem::remove_all(dir, ignored) > 0);
  MP_REFUSED_ON_THREADS(p);
}

// What cannot be set up fails Start() with the OS's error, and no child is
// started: a missing working directory, one that is a file, output to a
// file in a missing directory, input from a missing file. Nothing is left
// open by any of them. An empty path is refused by its setter, on every
// backend.
TYPED_TEST_P(StdioTest, WhatCannotBeOpenedFailsStartWithoutAChild) {
  {
    Process p = MakeProcess<TypeParam>(PrintMarker);
    EXPECT_TRUE(absl::IsInvalidArgument(p.SetWorkingDirectory("")));
    EXPECT_TRUE(absl::IsInvalidArgument(p.SetStdin(Stdio::File(""))));
    EXPECT_TRUE(absl::IsInvalidArgument(p.SetStdout(Stdio::File(""))));
    EXPECT_TRUE(
        absl::IsInvalidArgument(p.SetStderr(Stdio::File("", Stdio::kAppend))));
  }
  const std::string missing = TempPath("missing");
  const std::string file = TempPath("a-file");
  WriteFile(file, "not a directory");
  const std::string in_missing =
      (std::filesystem::path(missing) / "out.txt").string();
  if (TypeParam::kThreads) {
    Process p = MakeProcess<TypeParam>(PrintMarker);
    ASSERT_TRUE(p.SetWorkingDirectory(missing).ok());
    EXPECT_EQ(std::remove(file.c_str()), 0);
    MP_REFUSED_ON_THREADS(p);
  }
  auto attempt = [&](int which) -> absl::Status {
    Process p = MakeProcess<TypeParam>(PrintMarker);
    absl::Status set;
    switch (which) {
      case 0:
        set = p.SetWorkingDirectory(missing);
        break;
      case 1:
        set = p.SetWorkingDirectory(file);
        break;
      case 2:
        set = p.SetStdout(Stdio::File(in_missing));
        break;
      default:
        set = p.SetStdin(Stdio::File(missing));
        break;
    }
    // Pipes too, so that a failure after they are made must close them.
    if (set.ok()) set = p.SetStderr(Stdio::Pipe());
    if (!set.ok()) return set;
    absl::Status s = p.Start();
    EXPECT_FALSE(p.Pid().has_value()) << s;
    EXPECT_FALSE(p.StderrPipe().ok());
    return s;
  };
  for (int which = 0; which < 4; ++which) (void)attempt(which);  // warm up
  const int64_t before = OpenHandleCount();
  const absl::Status missing_dir = attempt(0);
  EXPECT_TRUE(absl::IsNotFound(missing_dir)) << missing_dir;
  EXPECT_NE(missing_dir.message().find("working directory"),
            absl::string_view::npos)
      << missing_dir;
  const absl::Status not_dir = attempt(1);
  EXPECT_TRUE(absl::IsFailedPrecondition(not_dir)) << not_dir;
  const absl::Status no_out = attempt(2);
  EXPECT_TRUE(absl::IsNotFound(no_out)) << no_out;
  EXPECT_NE(no_out.message().find("stdout"), absl::string_view::npos) << no_out;
  const absl::Status no_in = attempt(3);
  EXPECT_TRUE(absl::IsNotFound(no_in)) << no_in;
  for (int round = 0; round < 10; ++round) {
    for (int which = 0; which < 4; ++which) (void)attempt(which);
  }
  EXPECT_EQ(OpenHandleCount(), before) << "a failed Start() left one open";
  EXPECT_TRUE(ActiveChildren().empty());
  EXPECT_EQ(std::remove(file.c_str()), 0);
}

// Children with pipes, streams and a working directory, started and
// drained again and again, leave no descriptor or handle behind.
TYPED_TEST_P(StdioTest, PipesLeaveNothingOpen) {
  const std::string dir = TempPath("leak-cwd");
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  auto run = [&dir]() {
    Process p = MakeProcess<TypeParam>(EchoTransformed);
    EXPECT_TRUE(p.SetStdin(Stdio::Pipe()).ok());
    EXPECT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
    EXPECT_TRUE(p.SetStderr(Stdio::Null()).ok());
    EXPECT_TRUE(p.SetWorkingDirectory(dir).ok());
    absl::Status started = p.Start();
    if (!started.ok()) return started;
    absl::StatusOr<CapturedOutput> got = p.Communicate("abc", kPatience);
    EXPECT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(p.ExitCode(), 0);
    return got.status();
  };
  if (TypeParam::kThreads) {
    EXPECT_TRUE(absl::IsUnimplemented(run()));
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    MP_DOCUMENTED_DIFFERENCE(kThreadsShare);
  }
  ASSERT_TRUE(run().ok());  // warm up
  const int64_t before = OpenHandleCount();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(run().ok()) << "round " << i;
  EXPECT_EQ(OpenHandleCount(), before) << "handles leaked over 20 children";
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

// A child's stdin reaches end of file when the parent closes its end, even
// while another child started after it runs: that child (under fork, a
// copy of the parent) holds no copy of the pipe's write end.
TYPED_TEST_P(StdioTest, StdinEndsWhileAnotherChildRuns) {
  Process reader = MakeProcess<TypeParam>(EchoTransformed);
  ASSERT_TRUE(reader.SetStdin(Stdio::Pipe()).ok());
  ASSERT_TRUE(reader.SetStdout(Stdio::Pipe()).ok());
  MP_REFUSED_ON_THREADS(reader);
  ASSERT_TRUE(reader.Start().ok());
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok());
  Process other = MakeProcess<TypeParam>(WaitForRelease, *release);
  ASSERT_TRUE(other.Start().ok());
  absl::StatusOr<CapturedOutput> got = reader.Communicate("xyz", kPatience);
  EXPECT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(reader.ExitCode(), 0);
  EXPECT_TRUE(other.IsAlive());
  ASSERT_TRUE(release->Set().ok());
  EXPECT_EQ(JoinCode(other), 0);
}

// Communicate() that runs out of time loses nothing: a second call goes on
// where the first stopped.
TYPED_TEST_P(StdioTest, CommunicateTimesOutAndResumes) {
  absl::StatusOr<Event> wrote_first = Event::Create();
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(wrote_first.ok() && release.ok());
  Process p = MakeProcess<TypeParam>(FirstThenSecond, *wrote_first, *release);
  ASSERT_TRUE(p.SetStdout(Stdio::Pipe()).ok());
  ASSERT_TRUE(p.SetStderr(Stdio::Pipe()).ok());
  MP_REFUSED_ON_THREADS(p);
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(wrote_first->Wait(kPatience).ok());
  absl::StatusOr<CapturedOutput> early =
      p.Communicate({}, absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsDeadlineExceeded(early.status())) << early.status();
  ASSERT_TRUE(release->Set().ok());
  absl::StatusOr<CapturedOutput> got = p.Communicate({}, kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->out, "firstsecond");
  EXPECT_EQ(got->err, "");
  EXPECT_EQ(p.ExitCode(), 0);
  // Input for a stdin that is not a pipe is refused.
  Process q = MakeProcess<TypeParam>(WriteText, std::string(), std::string());
  ASSERT_TRUE(q.Start().ok());
  EXPECT_EQ(q.Communicate("x", kPatience).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(JoinCode(q), 0);
}

// The options are set before Start(), never after.
TYPED_TEST_P(StdioTest, OptionsAfterStartFail) {
  Process p = MakeProcess<TypeParam>(WriteText, std::string(), std::string());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(p.SetStdout(Stdio::Null()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.ExtendEnvironment({{kChildVar, "x"}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.SetWorkingDirectory(".").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(JoinCode(p), 0);
}

REGISTER_TYPED_TEST_SUITE_P(
    StdioTest, CapturesTenMebibytesOfStdoutAndStderrSeparately,
    StdinFedFromParentWithEndOfFile, PipesWorkWhileTheChildRuns,
    WritingToAnEndedChildIsEndOfFile, NullStreams,
    FilesTruncatedAppendedAndRead, EnvironmentExtendedOrReplaced,
    WorkingDirectoryApplied, WhatCannotBeOpenedFailsStartWithoutAChild,
    PipesLeaveNothingOpen, StdinEndsWhileAnotherChildRuns,
    CommunicateTimesOutAndResumes, OptionsAfterStartFail);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, StdioTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
