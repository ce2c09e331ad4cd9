# Run by ctest, not at configure time: lists the cases of one GoogleTest
# binary and adds one ctest test per case, named as GoogleTest names it
# (Conformance/ProcessTest/fork.ExitCodeOfExit), so that the backend is in
# every name. CMake's own gtest_discover_tests garbles the names of typed
# tests with named instantiations, which the conformance suite is.
#
# Set by the include file that tests/conformance/CMakeLists.txt generates:
#   MP_EXE       the binary
#   MP_EMULATOR  what runs it (the Wine runner for win32; empty natively)
#   MP_FILTER    a --gtest_filter selecting the cases
#   MP_LABEL     the tests' label (the backend: fork, spawn, threads, win32)
#   MP_TMPDIR    where each case gets a TEST_TMPDIR of its own, made empty
#                here, as Bazel gives each test one (cases leave files in it,
#                named by pid); the fixture mp_tmpdir removes it after the run

set(_mp_props LABELS ${MP_LABEL} TIMEOUT 300 FIXTURES_REQUIRED mp_tmpdir)
file(REMOVE_RECURSE "${MP_TMPDIR}/${MP_LABEL}")
execute_process(
  COMMAND ${MP_EMULATOR} ${MP_EXE} --gtest_list_tests "--gtest_filter=${MP_FILTER}"
  OUTPUT_VARIABLE _mp_out ERROR_VARIABLE _mp_err RESULT_VARIABLE _mp_rc
  TIMEOUT 120)
if(NOT _mp_rc EQUAL 0 OR NOT EXISTS "${MP_EXE}")
  # Not built, or it cannot even list its cases: one test that fails and says so.
  add_test("${MP_LABEL}.ListingCases" ${MP_EMULATOR} ${MP_EXE} --gtest_list_tests)
  set_tests_properties("${MP_LABEL}.ListingCases" PROPERTIES ${_mp_props})
  return()
endif()

string(REPLACE ";" "," _mp_out "${_mp_out}")
string(REPLACE "\n" ";" _mp_lines "${_mp_out}")
set(_mp_suite "")
set(_mp_n 0)
foreach(_mp_line IN LISTS _mp_lines)
  if(_mp_line MATCHES "^([^ #]+)\\.")
    set(_mp_suite ${CMAKE_MATCH_1})
  elseif(_mp_line MATCHES "^  ([^ #]+)" AND NOT _mp_suite STREQUAL "")
    set(_mp_case "${_mp_suite}.${CMAKE_MATCH_1}")
    add_test("${_mp_case}" ${MP_EMULATOR} ${MP_EXE} "--gtest_filter=${_mp_case}")
    math(EXPR _mp_n "${_mp_n} + 1")
    file(MAKE_DIRECTORY "${MP_TMPDIR}/${MP_LABEL}/${_mp_n}")
    set_tests_properties("${_mp_case}" PROPERTIES ${_mp_props}
      ENVIRONMENT "TEST_TMPDIR=${MP_TMPDIR}/${MP_LABEL}/${_mp_n}")
    if(_mp_case MATCHES "DISABLED_")
      set_tests_properties("${_mp_case}" PROPERTIES DISABLED TRUE)
    endif()
  endif()
endforeach()
