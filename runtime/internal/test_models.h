// Test helper: where the real test models live. $ARCA_MODELS_DIR if set,
// else $ARCA_SOURCE_DIR/../shared/models (ctest sets ARCA_SOURCE_DIR).
#ifndef ARCA_RUNTIME_INTERNAL_TEST_MODELS_H_
#define ARCA_RUNTIME_INTERNAL_TEST_MODELS_H_

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/result.h"
#include "common/status.h"

// Status assertions (common/testing.h may define the same; keep one).
#ifndef ASSERT_OK
#define ASSERT_OK(expr) ASSERT_TRUE((expr).ok()) << ::arca::runtime::testing::StatusOf(expr).ToString()
#define EXPECT_OK(expr) EXPECT_TRUE((expr).ok()) << ::arca::runtime::testing::StatusOf(expr).ToString()
#endif

namespace arca::runtime::testing {

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) { return r.status(); }

// Path of stories260K/<file>, or "" when it does not exist.
inline std::string Stories260KPath(const std::string& file) {
  std::string dir;
  if (const char* m = std::getenv("ARCA_MODELS_DIR")) {
    dir = m;
  } else if (const char* s = std::getenv("ARCA_SOURCE_DIR")) {
    dir = std::string(s) + "/../shared/models";
  } else {
    return "";
  }
  std::string path = dir + "/stories260K/" + file;
  return std::filesystem::exists(path) ? path : "";
}

}  // namespace arca::runtime::testing

#define ARCA_SKIP_WITHOUT_MODEL(var, file)                                              \
  const std::string var = ::arca::runtime::testing::Stories260KPath(file);              \
  if (var.empty()) {                                                                    \
    GTEST_SKIP() << "test model stories260K/" << (file) << " not found: set ARCA_MODELS_DIR " \
                 << "or put shared/models beside the source tree";                     \
  }

#endif  // ARCA_RUNTIME_INTERNAL_TEST_MODELS_H_
