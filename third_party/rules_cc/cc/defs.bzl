"""rules_cc's public macros, forwarded to Bazel's native C++ rules.

Only used on Debian's offline Bazel (see //third_party:deps.bzl); a Bazel
with network access uses the real rules_cc, which has the same names.
"""

def cc_binary(**kwargs):
    native.cc_binary(**kwargs)

def cc_import(**kwargs):
    native.cc_import(**kwargs)

def cc_library(**kwargs):
    native.cc_library(**kwargs)

def cc_test(**kwargs):
    native.cc_test(**kwargs)

def cc_toolchain(**kwargs):
    native.cc_toolchain(**kwargs)

def cc_toolchain_suite(**kwargs):
    native.cc_toolchain_suite(**kwargs)
