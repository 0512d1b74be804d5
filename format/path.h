// Bundle paths (FORMAT.md §5 "Paths"): the only names a bundle may give files.
#ifndef ARCA_FORMAT_PATH_H_
#define ARCA_FORMAT_PATH_H_

#include <string_view>

#include "common/status.h"

namespace arca::format {

inline constexpr size_t kMaxPathBytes = 1024;

// OK if `path` is a valid bundle path; otherwise INVALID_ARGUMENT saying why.
// A valid path, joined under any directory, names something inside it.
Status ValidateBundlePath(std::string_view path);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace arca::format

#endif  // ARCA_FORMAT_PATH_H_
