# wspulse_client — find the dependencies and provide imported targets for the ones that have
# none of their own. Included by CMakeLists.txt and by the installed wspulse_clientConfig.cmake.
#
# Provides: Threads::Threads, websocketpp::websocketpp, wspulse::asio (standalone Asio +
# ASIO_STANDALONE + Threads), wspulse::rapidjson. Imported targets, so their headers are SYSTEM
# includes for everybody (otherwise 150-250 warnings from the dependencies).
# Never fails by itself: sets WSPULSE_CLIENT_DEPS_MISSING to a description of what is missing
# (empty when all is there) and lets the caller decide how to fail.
# SPDX-License-Identifier: MIT

set(WSPULSE_CLIENT_DEPS_MISSING "")

# One folder holding all three header-only dependencies (asio.hpp + asio/, websocketpp/,
# rapidjson/), e.g. for a cross build: the default for the three *_INCLUDE_DIR variables below.
if(WSPULSE_CLIENT_DEPS_INCLUDE_DIR)
  foreach(_wspulse_dep IN ITEMS ASIO WEBSOCKETPP RAPIDJSON)
    if(NOT WSPULSE_CLIENT_${_wspulse_dep}_INCLUDE_DIR)
      set(WSPULSE_CLIENT_${_wspulse_dep}_INCLUDE_DIR "${WSPULSE_CLIENT_DEPS_INCLUDE_DIR}")
    endif()
  endforeach()
endif()

if(NOT TARGET Threads::Threads)
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads QUIET)
  if(NOT Threads_FOUND)
    string(APPEND WSPULSE_CLIENT_DEPS_MISSING " threads;")
  endif()
endif()

# websocketpp: no version in the request, its version file only accepts an exact match.
if(NOT TARGET websocketpp::websocketpp)
  find_package(websocketpp CONFIG QUIET)
  if(NOT TARGET websocketpp::websocketpp)
    find_path(WSPULSE_CLIENT_WEBSOCKETPP_INCLUDE_DIR NAMES websocketpp/version.hpp
              HINTS ${WEBSOCKETPP_INCLUDE_DIR}
              DOC "directory that contains websocketpp/ (websocketpp 0.8.x)")
    if(WSPULSE_CLIENT_WEBSOCKETPP_INCLUDE_DIR)
      add_library(websocketpp::websocketpp INTERFACE IMPORTED)
      set_target_properties(websocketpp::websocketpp PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${WSPULSE_CLIENT_WEBSOCKETPP_INCLUDE_DIR}")
    else()
      string(APPEND WSPULSE_CLIENT_DEPS_MISSING " websocketpp 0.8.x (Debian: libwebsocketpp-dev);")
    endif()
  endif()
endif()

# Standalone Asio has no CMake package.
if(NOT TARGET wspulse::asio)
  find_path(WSPULSE_CLIENT_ASIO_INCLUDE_DIR NAMES asio.hpp asio/version.hpp
            DOC "directory that contains standalone Asio's asio.hpp (Asio <= 1.32)")
  if(WSPULSE_CLIENT_ASIO_INCLUDE_DIR AND TARGET Threads::Threads)
    add_library(wspulse::asio INTERFACE IMPORTED)
    set_target_properties(wspulse::asio PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${WSPULSE_CLIENT_ASIO_INCLUDE_DIR}"
      # Without it websocketpp silently uses Boost.Asio (libasio-dev recommends Boost).
      INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE"
      INTERFACE_LINK_LIBRARIES "Threads::Threads")
  elseif(NOT WSPULSE_CLIENT_ASIO_INCLUDE_DIR)
    string(APPEND WSPULSE_CLIENT_DEPS_MISSING " standalone Asio (Debian: libasio-dev);")
  endif()
endif()

# RapidJSON 1.1.0's package config only sets include-directory variables: wrap them.
if(NOT TARGET wspulse::rapidjson)
  find_package(RapidJSON CONFIG QUIET)
  if(TARGET RapidJSON)  # newer RapidJSON exports a target
    add_library(wspulse::rapidjson INTERFACE IMPORTED)
    set_target_properties(wspulse::rapidjson PROPERTIES INTERFACE_LINK_LIBRARIES RapidJSON)
  else()
    find_path(WSPULSE_CLIENT_RAPIDJSON_INCLUDE_DIR NAMES rapidjson/document.h
              HINTS ${RapidJSON_INCLUDE_DIRS} ${RAPIDJSON_INCLUDE_DIRS}
              DOC "directory that contains rapidjson/")
    if(WSPULSE_CLIENT_RAPIDJSON_INCLUDE_DIR)
      add_library(wspulse::rapidjson INTERFACE IMPORTED)
      set_target_properties(wspulse::rapidjson PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${WSPULSE_CLIENT_RAPIDJSON_INCLUDE_DIR}")
    else()
      string(APPEND WSPULSE_CLIENT_DEPS_MISSING " RapidJSON (Debian: rapidjson-dev);")
    endif()
  endif()
endif()
