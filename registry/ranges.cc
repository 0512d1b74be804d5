#include "registry/ranges.h"

#include <algorithm>
#include <string>

namespace arca::registry {
namespace {

std::string Describe(const std::pair<ssize_t, ssize_t>& r) {
  return (r.first < 0 ? std::string() : std::to_string(r.first)) + "-" +
         (r.second < 0 ? std::string() : std::to_string(r.second));
}

}  // namespace

Status CheckRanges(const ByteRanges& ranges, uint64_t size, size_t max_ranges) {
  if (ranges.size() > max_ranges) {
    return OutOfRangeError("at most " + std::to_string(max_ranges) + " ranges per request, not " +
                           std::to_string(ranges.size()));
  }
  uint64_t next_free = 0;  // the first byte the next range may start at
  for (const auto& r : ranges) {
    uint64_t first, last;  // inclusive
    if (r.first < 0 && r.second < 0) {
      return OutOfRangeError("range \"-\" names no bytes");
    } else if (r.first < 0) {
      // A suffix: the last n bytes, or all of them when n is larger (RFC
      // 9110 14.1.2; httplib resolves it the same way).
      uint64_t n = std::min(uint64_t(r.second), size);
      if (n == 0) {
        return OutOfRangeError("range " + Describe(r) + " is not within the pack's " + std::to_string(size) +
                               " bytes");
      }
      first = size - n;
      last = size - 1;
    } else {
      first = uint64_t(r.first);
      last = r.second < 0 ? size - 1 : uint64_t(r.second);
      if (size == 0 || first > last || last >= size) {
        return OutOfRangeError("range " + Describe(r) + " is not within the pack's " + std::to_string(size) +
                               " bytes");
      }
    }
    if (first < next_free) {
      return OutOfRangeError("range " + Describe(r) + " overlaps or precedes the one before it");
    }
    next_free = last + 1;
  }
  return Status::Ok();
}

}  // namespace arca::registry
