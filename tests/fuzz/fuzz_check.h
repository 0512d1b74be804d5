// FUZZ_CHECK: the fuzz targets' assertion. An invariant that fails is a bug
// in the code under test, so it aborts (libFuzzer then saves the input as a
// crash) after printing what was expected, in got/want form where it helps.
#ifndef ARCA_TESTS_FUZZ_FUZZ_CHECK_H_
#define ARCA_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                       \
      std::fputc('\n', stderr);                                                \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

#endif  // ARCA_TESTS_FUZZ_FUZZ_CHECK_H_
