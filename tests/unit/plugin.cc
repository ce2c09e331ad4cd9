// Copyright 2026 The mp Authors.
//
// A module loaded at run time by dlopen_target_test.cc.

extern "C" void PluginTarget() {}
