#!/bin/sh
echo "coverage tools are not available on the offline Debian Bazel" >&2
exit 1
