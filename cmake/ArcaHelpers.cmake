# Helpers shared by every folder's CMakeLists.txt.
#
#   arca_library(NAME SRCS ... DEPS ...)  -> target arca_NAME, alias arca::NAME
#   arca_test(NAME SRCS ... DEPS ...)     -> a GoogleTest binary, discovered by ctest
#   arca_binary(NAME SRCS ... DEPS ...)   -> an executable in build/bin

add_library(arca_warnings INTERFACE)
target_compile_options(arca_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)

add_library(arca_options INTERFACE)
target_include_directories(arca_options INTERFACE ${PROJECT_SOURCE_DIR})
if(ARCA_SANITIZE)
  target_compile_options(arca_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(arca_options INTERFACE -fsanitize=address,undefined)
endif()

function(arca_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(arca_${name} STATIC ${ARG_SRCS})
  add_library(arca::${name} ALIAS arca_${name})
  target_link_libraries(arca_${name} PUBLIC arca_options ${ARG_DEPS} PRIVATE arca_warnings)
endfunction()

function(arca_binary name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE arca_options arca_warnings ${ARG_DEPS})
endfunction()

include(GoogleTest)
function(arca_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE arca_options arca_warnings ${ARG_DEPS}
                        GTest::gtest GTest::gtest_main GTest::gmock)
  # Where tests find the source tree (and ../shared beside it) and the
  # binaries they run: compiled in, and ARCA_SOURCE_DIR also in the environment.
  target_compile_definitions(${name} PRIVATE
    ARCA_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}" ARCA_TEST_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "ARCA_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
