# Runs EXE and passes only when it ends abnormally (non-zero exit or a signal) and its output
# matches REGEX. CTest's WILL_FAIL does not count an abort as a failure, hence this script.
#   cmake -DEXE=<program> -DREGEX=<regex> -P expect_abort.cmake
execute_process(COMMAND ${EXE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited normally; it was expected to abort\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "${EXE} ended (${rc}) but its output does not match '${REGEX}':\n${out}${err}")
endif()
message(STATUS "${EXE} ended as expected (${rc})")
