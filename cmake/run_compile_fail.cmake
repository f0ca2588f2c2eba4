# wspulse_client — body of one compile-fail test (see wspulse_client_compile_fail.cmake).
# Inputs: CF_NAME, CF_TARGET, CF_EXPECT (a list of regexes, each must match), CF_BUILD_DIR,
# CF_CONFIG.
# SPDX-License-Identifier: MIT
cmake_policy(VERSION 3.18)  # -P scripts start with no policies set (IN_LIST)

set(_args --build "${CF_BUILD_DIR}" --target "${CF_TARGET}")
if(CF_CONFIG)
  list(APPEND _args --config "${CF_CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" ${_args}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)

if(_rc EQUAL 0)
  message(FATAL_ERROR "compile-fail ${CF_NAME}: the snippet COMPILED, but it must be rejected "
                      "with a message matching: ${CF_EXPECT}\n${_out}")
endif()
# A message listed n times (several snippets failing the same rule) must start n error lines.
set(_seen "")
foreach(_expect IN LISTS CF_EXPECT)
  if(_expect IN_LIST _seen)
    continue()
  endif()
  list(APPEND _seen "${_expect}")
  set(_wanted 0)
  foreach(_e IN LISTS CF_EXPECT)
    if(_e STREQUAL _expect)
      math(EXPR _wanted "${_wanted} + 1")
    endif()
  endforeach()
  string(REGEX MATCHALL "error[^\n]*${_expect}" _hits "${_out}")
  list(LENGTH _hits _found)
  if(NOT _out MATCHES "${_expect}" OR (_wanted GREATER 1 AND _found LESS _wanted))
    message(FATAL_ERROR "compile-fail ${CF_NAME}: rejected as it should be, but the output does "
                        "not match ${_wanted} time(s): ${_expect}\n--- compiler output ---\n${_out}")
  endif()
  message(STATUS "compile-fail ${CF_NAME}: rejected with the expected message (${_expect})")
endforeach()
