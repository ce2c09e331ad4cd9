// Copyright 2026 The mp Authors.
//
// main() for GoogleTest binaries that start processes: mp::Init() first, so
// that a spawned child runs its target and exits before GoogleTest sees its
// arguments (GoogleTest's own gtest_main cannot be used for spawn).

#include "gtest/gtest.h"
#include "mp/init.h"

int main(int argc, char** argv) {
  mp::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
