// Bundle path validation: the guard against writing outside a target directory.
#include "format/path.h"

#include <string>

namespace arca::format {

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = uint8_t(s[i]);
    if (c < 0x80) { ++i; continue; }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      uint8_t d = uint8_t(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Status ValidateBundlePath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    std::string shown;
    for (char c : path.substr(0, 200)) shown += (uint8_t(c) < 0x20 || c == 0x7F) ? '?' : c;
    return InvalidArgumentError("invalid path \"" + shown + "\": " + std::string(why));
  };
  if (path.empty()) return bad("empty");
  if (path.size() > kMaxPathBytes) return bad("longer than 1024 bytes");
  if (!IsValidUtf8(path)) return bad("not valid UTF-8");
  for (char c : path) {
    if (c == '\0') return bad("contains a NUL byte");
    if (uint8_t(c) < 0x20 || c == 0x7F) return bad("contains a control character");
    if (c == '\\') return bad("contains a backslash");
  }
  if (path.front() == '/') return bad("absolute");
  if (path.back() == '/') return bad("ends with '/'");
  if (path == ".arca" || path.starts_with(".arca/")) return bad("the top-level .arca/ folder is reserved for Arca");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp.empty()) return bad("has an empty component ('//')");
    if (comp == ".") return bad("has a '.' component");
    if (comp == "..") return bad("has a '..' component");
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace arca::format
