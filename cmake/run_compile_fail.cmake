# wspulse_client — body of one compile-fail test (see wspulse_client_compile_fail.cmake).
# Inputs: CF_NAME, CF_TARGET, CF_EXPECT (regex), CF_BUILD_DIR, CF_CONFIG.
# SPDX-License-Identifier: MIT

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
if(NOT _out MATCHES "${CF_EXPECT}")
  message(FATAL_ERROR "compile-fail ${CF_NAME}: rejected as it should be, but the output does "
                      "not match: ${CF_EXPECT}\n--- compiler output ---\n${_out}")
endif()
message(STATUS "compile-fail ${CF_NAME}: rejected with the expected message (${CF_EXPECT})")
