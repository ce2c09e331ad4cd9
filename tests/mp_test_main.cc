// Copyright 2026 The mp Authors.
//
// The conformance binary's main(): mp::Init() first, so that a spawned child
// runs its target and exits before GoogleTest sees its arguments.

#include "gtest/gtest.h"
#include "mp/init.h"

int main(int argc, char** argv) {
  mp::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
