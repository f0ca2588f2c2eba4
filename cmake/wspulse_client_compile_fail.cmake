# wspulse_client — compile-fail tests: a ctest test that compiles a snippet and passes only when
# the compiler REJECTS it AND its output matches an expected message.
#
#   wspulse_client_add_compile_fail_test(<name>
#     CODE <text> | SOURCE <file>      # the snippet (inline text, or a file relative to the repo)
#     EXPECT <regex>...                # each must match the compiler's output
#     [CXX_STANDARD <n>]               # e.g. 14: compile the snippet with -std=c++<n>
#     [COMPILE_OPTIONS <opt>...]
#     [COMPILE_DEFINITIONS <def>...]
#     [LINK <target>...]               # default: wspulse::client (include dirs, defines, deps)
#     [ALL_ERRORS])                    # default: -Wfatal-errors, so EXPECT must be the FIRST error;
#                                      # ALL_ERRORS: every error (several snippets in one TU)
#
# Each snippet becomes an EXCLUDE_FROM_ALL object library `wspulse_cf_<name>`; the test
# `compile_fail.<name>` runs `cmake --build . --target wspulse_cf_<name>` (one at a time: they
# share the build directory) and checks the result with run_compile_fail.cmake.
# SPDX-License-Identifier: MIT

set(_wspulse_cf_dir "${CMAKE_CURRENT_LIST_DIR}")

# Write <content> to <path> only when it differs, so re-configuring does not trigger rebuilds.
# (<path>.in stays: configure_file records it as an input of the configure step.)
function(wspulse_client_write_if_changed path content)
  file(WRITE "${path}.in" "${content}")
  configure_file("${path}.in" "${path}" COPYONLY)
endfunction()

function(wspulse_client_add_compile_fail_test name)
  cmake_parse_arguments(PARSE_ARGV 1 CF "ALL_ERRORS" "CODE;SOURCE;CXX_STANDARD"
                        "EXPECT;COMPILE_OPTIONS;COMPILE_DEFINITIONS;LINK")
  if(NOT CF_EXPECT)
    message(FATAL_ERROR "wspulse_client_add_compile_fail_test(${name}): EXPECT is required")
  endif()
  if(DEFINED CF_CODE AND DEFINED CF_SOURCE)
    message(FATAL_ERROR "wspulse_client_add_compile_fail_test(${name}): CODE or SOURCE, not both")
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/compile_fail")
  if(DEFINED CF_CODE)
    set(src "${dir}/${name}.cpp")
    wspulse_client_write_if_changed("${src}"
      "// Generated compile-fail snippet `${name}`: must not compile.\n${CF_CODE}\n")
  elseif(DEFINED CF_SOURCE)
    get_filename_component(src "${CF_SOURCE}" ABSOLUTE BASE_DIR "${PROJECT_SOURCE_DIR}")
  else()
    message(FATAL_ERROR "wspulse_client_add_compile_fail_test(${name}): CODE or SOURCE required")
  endif()
  if(NOT DEFINED CF_LINK)
    set(CF_LINK wspulse::client)
  endif()

  set(target "wspulse_cf_${name}")
  add_library(${target} OBJECT EXCLUDE_FROM_ALL "${src}")
  target_link_libraries(${target} PRIVATE ${CF_LINK})
  target_compile_definitions(${target} PRIVATE ${CF_COMPILE_DEFINITIONS})
  if(NOT CF_ALL_ERRORS)
    target_compile_options(${target} PRIVATE -Wfatal-errors)
  elseif(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -ferror-limit=0)  # clang stops after 20 otherwise
  endif()
  if(CF_CXX_STANDARD)
    # wspulse::client requires cxx_std_17, so CMake adds -std=c++17 after the target's options;
    # a source-file option comes after that and wins.
    set_property(SOURCE "${src}" APPEND PROPERTY COMPILE_OPTIONS -std=c++${CF_CXX_STANDARD})
  endif()
  target_compile_options(${target} PRIVATE ${CF_COMPILE_OPTIONS})

  # The settings travel in a generated script: a regex survives no command line intact.
  set(runner "${dir}/${name}.cmake")
  file(CONFIGURE OUTPUT "${runner}" @ONLY CONTENT [=[
set(CF_NAME [==[@name@]==])
set(CF_TARGET [==[@target@]==])
set(CF_EXPECT [==[@CF_EXPECT@]==])
set(CF_BUILD_DIR [==[@CMAKE_BINARY_DIR@]==])
include([==[@_wspulse_cf_dir@/run_compile_fail.cmake]==])
]=])
  add_test(NAME compile_fail.${name}
           COMMAND ${CMAKE_COMMAND} -DCF_CONFIG=$<CONFIG> -P "${runner}")
  set_tests_properties(compile_fail.${name} PROPERTIES
    LABELS compile_fail
    RESOURCE_LOCK wspulse_client_build_dir
    TIMEOUT 300)
endfunction()
