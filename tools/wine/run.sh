#!/usr/bin/env bash
# Runs a Windows executable under Wine inside a Bazel test (or by hand):
#   tools/wine/run.sh path/to/test.exe [args...]
#
# - a Wine prefix under /tmp (HOME is read-only in Bazel's sandbox), created
#   once by `wineboot`, serialised with flock so parallel tests wait for it;
# - WINEDEBUG=-all so Wine's own chatter does not bury the test's output;
# - Bazel's test environment (XML_OUTPUT_FILE, TEST_TMPDIR, ...) rewritten to
#   Z:\ paths, without which GoogleTest cannot write its XML and aborts.
# The .exe's exit status is this script's exit status.
set -euo pipefail

exe=${1:?usage: run.sh program.exe [args...]}
shift

wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine64 || command -v wine || true)
if [ -z "$wine" ]; then
  echo "run.sh: Wine is not installed; run tools/setup.sh" >&2
  exit 127
fi
# Debian keeps wineserver next to wine64, off PATH.
wineserver=$(dirname "$wine")/wineserver64
[ -x "$wineserver" ] || wineserver=$(command -v wineserver || echo wineserver)

export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="  # no Mono/Gecko install dialogs
export WINEPREFIX=${MP_WINEPREFIX:-/tmp/mp-wine-$(id -u)}
unset DISPLAY

if [ ! -f "$WINEPREFIX/.mp-ready" ]; then
  mkdir -p "$(dirname "$WINEPREFIX")"
  (
    flock 9
    if [ ! -f "$WINEPREFIX/.mp-ready" ]; then
      "$wine" wineboot --init >/dev/null 2>&1 9>&- || true
      "$wineserver" -w 2>/dev/null 9>&- || true
      [ -f "$WINEPREFIX/system.reg" ] || {
        echo "run.sh: wineboot failed to create $WINEPREFIX" >&2
        exit 1
      }
      touch "$WINEPREFIX/.mp-ready"
    fi
  ) 9>"$WINEPREFIX.lock"
fi

to_windows() {
  local p
  p=$(realpath -m -- "$1")
  printf 'Z:%s' "${p//\//\\}"
}
for v in XML_OUTPUT_FILE TEST_TMPDIR TEST_UNDECLARED_OUTPUTS_DIR \
  TEST_UNDECLARED_OUTPUTS_ANNOTATIONS_DIR TEST_PREMATURE_EXIT_FILE \
  TEST_SHARD_STATUS_FILE TEST_WARNINGS_OUTPUT_FILE \
  TEST_INFRASTRUCTURE_FAILURE_FILE TEST_UNUSED_RUNFILES_LOG_FILE \
  TEST_LOGSPLITTER_OUTPUT_FILE TEST_SRCDIR RUNFILES_DIR; do
  if [ -n "${!v:-}" ]; then
    export "$v=$(to_windows "${!v}")"
  fi
done

# A wineserver for the prefix, and Wine's own processes (services.exe, ...),
# started here with no standard streams and kept 60 s after the last
# client: started by the wine below they would inherit this script's stdout
# and stderr and hold them open after the program ended, for as long as any
# Wine program of the prefix runs (ctest, which waits for the end of a
# test's output, then waited minutes), and each run would start them anew.
# Serialised with the prefix's creation; when a wineserver runs already,
# `wineserver -p60` exits at once, non-zero, and nothing else is done.
# Both are started with the lock's descriptor closed: a daemon that kept it
# would hold the lock for as long as it runs, and every later run would
# wait for it here.
(
  flock 9
  if (cd / && "$wineserver" -p60 </dev/null >/dev/null 2>&1 9>&-); then
    "$wine" wineboot </dev/null >/dev/null 2>&1 9>&- || true
  fi
) 9>"$WINEPREFIX.lock"

exec "$wine" "$exe" "$@"
