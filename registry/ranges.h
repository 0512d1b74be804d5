// Checks the byte ranges of a pack request (docs/API.md "GET /v1/packs").
//
// cpp-httplib parses `Range: bytes=...` into (first, last) pairs, -1 meaning
// "not given", and serves them without checking them against the content's
// size. Every range is therefore checked here before a response is built.
#ifndef ARCA_REGISTRY_RANGES_H_
#define ARCA_REGISTRY_RANGES_H_

#include <sys/types.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "common/status.h"

namespace arca::registry {

// As cpp-httplib's Request::ranges: "a-b" is (a, b), "a-" is (a, -1), "-n"
// (the last n bytes) is (-1, n).
using ByteRanges = std::vector<std::pair<ssize_t, ssize_t>>;

// OK when there are at most `max_ranges` ranges, each a non-empty part of a
// `size`-byte file, in ascending order and not overlapping. Otherwise
// OUT_OF_RANGE saying which range is wrong. A range that runs past the end is
// refused rather than shortened (httplib would not shorten it): the client
// asked for bytes that do not exist. A suffix longer than the file means the
// whole file, as RFC 9110 says.
Status CheckRanges(const ByteRanges& ranges, uint64_t size, size_t max_ranges);

}  // namespace arca::registry

#endif  // ARCA_REGISTRY_RANGES_H_
