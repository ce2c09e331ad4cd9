"""Compatibility settings shared by BUILD files.

NOT_WINDOWS: for targets that need a POSIX system (the POSIX backend, and
tests or tools that fork, use /proc or link POSIX-only libraries), so that
`bazel build --config=win32 //...` skips them instead of failing.
"""

NOT_WINDOWS = select({
    "//platform:windows": ["@platforms//:incompatible"],
    "//conditions:default": [],
})
