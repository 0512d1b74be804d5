// Model card front matter: a strict reader for the YAML subset that Hugging
// Face model cards use, and the mapping of its licence and lineage keys onto
// Arca's manifest metadata.
//
// The reader works on lines for block structure (indentation decides nesting,
// as in YAML) and on the raw text for what may span lines (flow collections,
// quoted scalars). A list item "- x" is read by treating "- " as indentation,
// so "- key: v" followed by "  key2: w" is one map, as YAML says.
#include "client/model_card.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "common/file.h"
#include "format/path.h"

namespace arca::client {
namespace {

struct Node {
  enum class Kind { kNull, kScalar, kList, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;
  std::vector<Node> items;                            // kList
  std::vector<std::pair<std::string, Node>> entries;  // kMap, in card order
};

struct Line {
  size_t number = 0;      // 1-based line number in README.md
  int indent = 0;         // column of `text`
  std::string_view text;  // after the indentation, without trailing white space
  std::string_view raw;   // the whole line without its line end (block scalars)
};

std::string_view TrimRight(std::string_view s) {
  size_t end = s.find_last_not_of(" \t\r");
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

bool IsNullWord(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// Characters that YAML reserves at the start of a plain scalar and that this
// subset does not implement.
bool IsUnsupportedIndicator(char c) {
  return c == '&' || c == '*' || c == '!' || c == '%' || c == '@' || c == '`' || c == '?';
}

class YamlParser {
 public:
  // `body` is the front matter; `first_line` its first line's number in README.md.
  YamlParser(std::string_view body, size_t first_line) : body_(body) {
    size_t start = 0, number = first_line;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string_view::npos) end = body.size();
      std::string_view raw = body.substr(start, end - start);
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      Line l;
      l.number = number++;
      l.raw = raw;
      size_t indent = raw.find_first_not_of(' ');
      if (indent == std::string_view::npos) indent = raw.size();
      l.indent = int(indent);
      l.text = TrimRight(raw.substr(indent));
      lines_.push_back(l);
      start = end + 1;
    }
  }

  Result<Node> ParseDocument() {
    SkipBlank();
    if (pos_ == lines_.size()) return Node{Node::Kind::kMap, {}, {}, {}};
    ARCA_ASSIGN_OR_RETURN(Node root, ParseBlockNode(-1, 0));
    SkipBlank();
    if (pos_ < lines_.size()) return Error(lines_[pos_].number, "unexpected content here (check the indentation)");
    if (root.kind != Node::Kind::kMap) return Error(lines_.front().number, "the front matter must be \"key: value\" pairs");
    return root;
  }

 private:
  Status Error(size_t line, const std::string& what) const {
    return InvalidArgumentError("README.md front matter, line " + std::to_string(line) + ": " + what);
  }
  size_t LineOfOffset(size_t offset) const {
    auto it = std::upper_bound(lines_.begin(), lines_.end(), offset, [&](size_t o, const Line& l) {
      return o < size_t(l.raw.data() - body_.data());
    });
    return it == lines_.begin() ? lines_.front().number : std::prev(it)->number;
  }
  size_t OffsetOf(std::string_view s) const { return size_t(s.data() - body_.data()); }

  Status CountNode() {
    if (++nodes_ > kMaxYamlNodes) {
      return ResourceExhaustedError("README.md front matter has more than " + std::to_string(kMaxYamlNodes) +
                                    " values");
    }
    return Status::Ok();
  }
  Status CheckDepth(int depth, size_t line) const {
    if (depth > kMaxYamlDepth) {
      return ResourceExhaustedError("README.md front matter, line " + std::to_string(line) + ": nested deeper than " +
                                    std::to_string(kMaxYamlDepth) + " levels");
    }
    return Status::Ok();
  }

  // Skips blank and comment-only lines.
  void SkipBlank() {
    while (pos_ < lines_.size() && (lines_[pos_].text.empty() || lines_[pos_].text[0] == '#')) ++pos_;
  }

  static bool IsListMarker(std::string_view text) {
    return !text.empty() && text[0] == '-' && (text.size() == 1 || text[1] == ' ');
  }

  // If `text` starts with "key:" (followed by a space or the end), splits it.
  // Quoted keys are single-line. Returns false when the line is no map entry.
  Result<bool> SplitKey(const Line& l, std::string* key, std::string_view* rest) {
    std::string_view t = l.text;
    size_t colon;
    if (t[0] == '"' || t[0] == '\'') {
      size_t o = OffsetOf(t);
      size_t end_of_line = OffsetOf(l.raw) + l.raw.size();
      Result<std::string> q = ParseQuoted(&o, end_of_line);
      if (!q.ok()) return false;  // a multi-line quoted scalar, not a key
      colon = o - OffsetOf(t);
      while (colon < t.size() && t[colon] == ' ') ++colon;
      if (colon >= t.size() || t[colon] != ':' || (colon + 1 < t.size() && t[colon + 1] != ' ')) return false;
      *key = std::move(*q);
    } else {
      if (t[0] == '[' || t[0] == '{' || IsUnsupportedIndicator(t[0]) || t[0] == '|' || t[0] == '>') return false;
      colon = std::string_view::npos;
      for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '#' && i > 0 && t[i - 1] == ' ') break;
        if (t[i] == ':' && (i + 1 == t.size() || t[i + 1] == ' ')) {
          colon = i;
          break;
        }
      }
      if (colon == std::string_view::npos) return false;
      *key = std::string(TrimRight(t.substr(0, colon)));
      if (key->empty()) return Error(l.number, "empty key");
    }
    *rest = t.substr(colon + 1);
    size_t skip = rest->find_first_not_of(' ');
    *rest = skip == std::string_view::npos ? std::string_view() : rest->substr(skip);
    return true;
  }

  // A node whose first line is lines_[pos_] (possibly a tail of it, see
  // ParseList); `parent` is the indentation of the collection holding it.
  Result<Node> ParseBlockNode(int parent, int depth) {
    const Line& l = lines_[pos_];
    if (l.text[0] == '\t') return Error(l.number, "tab in indentation (YAML indents with spaces)");
    if (IsListMarker(l.text)) return ParseList(l.indent, depth + 1);
    std::string key;
    std::string_view rest;
    ARCA_ASSIGN_OR_RETURN(bool is_entry, SplitKey(l, &key, &rest));
    if (is_entry) return ParseMap(l.indent, depth + 1);
    return ParseScalarNode(parent, depth);
  }

  Result<Node> ParseList(int indent, int depth) {
    ARCA_RETURN_IF_ERROR(CheckDepth(depth, lines_[pos_].number));
    ARCA_RETURN_IF_ERROR(CountNode());
    Node list{Node::Kind::kList, {}, {}, {}};
    for (;;) {
      SkipBlank();
      if (pos_ == lines_.size() || lines_[pos_].indent < indent) break;
      Line& l = lines_[pos_];
      if (l.text[0] == '\t') return Error(l.number, "tab in indentation (YAML indents with spaces)");
      if (l.indent > indent) return Error(l.number, "unexpected indentation inside a list");
      if (!IsListMarker(l.text)) break;  // a map key at the list's indentation ends it
      std::string_view rest = l.text.substr(1);
      size_t skip = rest.find_first_not_of(' ');
      if (skip == std::string_view::npos || rest[skip] == '#') {
        // "-" alone: the item is on the following, deeper lines, or null.
        ++pos_;
        SkipBlank();
        if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
          ARCA_ASSIGN_OR_RETURN(Node item, ParseBlockNode(indent, depth));
          list.items.push_back(std::move(item));
        } else {
          ARCA_RETURN_IF_ERROR(CountNode());
          list.items.push_back(Node{});
        }
        continue;
      }
      // "- x": read x as a node whose indentation is its own column.
      l.indent += int(1 + skip);
      l.text = rest.substr(skip);
      ARCA_ASSIGN_OR_RETURN(Node item, ParseBlockNode(indent, depth));
      list.items.push_back(std::move(item));
    }
    return list;
  }

  Result<Node> ParseMap(int indent, int depth) {
    ARCA_RETURN_IF_ERROR(CheckDepth(depth, lines_[pos_].number));
    ARCA_RETURN_IF_ERROR(CountNode());
    Node map{Node::Kind::kMap, {}, {}, {}};
    for (;;) {
      SkipBlank();
      if (pos_ == lines_.size() || lines_[pos_].indent < indent) break;
      Line& l = lines_[pos_];
      if (l.text[0] == '\t') return Error(l.number, "tab in indentation (YAML indents with spaces)");
      if (l.indent > indent) return Error(l.number, "unexpected indentation (a value continues a \"key:\" line?)");
      std::string key;
      std::string_view rest;
      ARCA_ASSIGN_OR_RETURN(bool is_entry, SplitKey(l, &key, &rest));
      if (!is_entry) return Error(l.number, "expected \"key: value\"");
      for (const auto& [k, v] : map.entries) {
        if (k == key) return Error(l.number, "duplicate key \"" + key + "\"");
      }
      Node value;
      if (rest.empty() || rest[0] == '#') {
        // "key:" alone: a nested block, a list at the same indentation, or null.
        ++pos_;
        SkipBlank();
        if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
          ARCA_ASSIGN_OR_RETURN(value, ParseBlockNode(indent, depth));
        } else if (pos_ < lines_.size() && lines_[pos_].indent == indent && IsListMarker(lines_[pos_].text)) {
          ARCA_ASSIGN_OR_RETURN(value, ParseList(indent, depth + 1));
        } else {
          ARCA_RETURN_IF_ERROR(CountNode());
        }
      } else {
        l.indent += int(OffsetOf(rest) - OffsetOf(l.text));
        l.text = rest;
        if (IsListMarker(rest)) return Error(l.number, "a list cannot start on the line of its key");
        ARCA_ASSIGN_OR_RETURN(value, ParseScalarNode(indent, depth));
      }
      map.entries.emplace_back(std::move(key), std::move(value));
    }
    return map;
  }

  // A scalar or flow collection starting at lines_[pos_].text; consumes the
  // lines it spans. Continuation lines must be indented deeper than `parent`.
  Result<Node> ParseScalarNode(int parent, int depth) {
    const Line& l = lines_[pos_];
    char c = l.text[0];
    if (IsUnsupportedIndicator(c)) {
      return Error(l.number, std::string("'") + c + "' starts an anchor, alias, tag or other YAML feature "
                             "that model cards do not use; quote the value");
    }
    if (c == '|' || c == '>') return ParseBlockScalar(parent);
    if (c == '[' || c == '{' || c == '"' || c == '\'') {
      size_t o = OffsetOf(l.text);
      Node node;
      if (c == '[' || c == '{') {
        ARCA_ASSIGN_OR_RETURN(node, ParseFlow(&o, depth + 1));
      } else {
        ARCA_RETURN_IF_ERROR(CountNode());
        node.kind = Node::Kind::kScalar;
        ARCA_ASSIGN_OR_RETURN(node.scalar, ParseQuoted(&o, body_.size()));
      }
      // Only white space or a comment may follow on the closing line.
      size_t line = LineOfOffset(o);
      while (pos_ < lines_.size() && lines_[pos_].number < line) ++pos_;
      std::string_view tail = body_.substr(o, OffsetOf(lines_[pos_].raw) + lines_[pos_].raw.size() - o);
      size_t k = tail.find_first_not_of(" \t\r");
      if (k != std::string_view::npos && tail[k] != '#') return Error(line, "unexpected text after the value");
      ++pos_;
      return node;
    }
    // Plain scalar, possibly folded over deeper lines.
    ARCA_RETURN_IF_ERROR(CountNode());
    std::string value;
    std::string sep;  // what joins the next line: ' ', or one '\n' per blank line
    size_t first = pos_;
    for (;;) {
      const Line& cur = lines_[pos_];
      std::string_view t = cur.text;
      bool comment = false;
      for (size_t i = 1; i < t.size(); ++i) {
        if (t[i] == '#' && (t[i - 1] == ' ' || t[i - 1] == '\t')) {
          t = TrimRight(t.substr(0, i));
          comment = true;
          break;
        }
      }
      if (t.find(": ") != std::string_view::npos || (!t.empty() && t.back() == ':')) {
        return Error(cur.number, "a plain value cannot contain \": \" (quote it, or check the indentation)");
      }
      value += sep;
      value += t;
      ++pos_;
      if (comment) break;
      size_t next = pos_;
      while (next < lines_.size() && lines_[next].text.empty()) ++next;
      if (next == lines_.size() || lines_[next].indent <= parent || lines_[next].text[0] == '#') break;
      if (lines_[next].text[0] == '\t') return Error(lines_[next].number, "tab in indentation (YAML indents with spaces)");
      sep = next == pos_ ? std::string(" ") : std::string(next - pos_, '\n');
      pos_ = next;
    }
    Node node;
    if (pos_ - first == 1 && IsNullWord(value)) return node;
    node.kind = Node::Kind::kScalar;
    node.scalar = std::move(value);
    return node;
  }

  // "|" or ">" with optional chomping (+/-) and indentation digit.
  Result<Node> ParseBlockScalar(int parent) {
    ARCA_RETURN_IF_ERROR(CountNode());
    const Line& head = lines_[pos_];
    bool literal = head.text[0] == '|';
    char chomp = ' ';
    int explicit_indent = 0;
    size_t i = 1;
    for (; i < head.text.size() && i < 3; ++i) {
      char c = head.text[i];
      if ((c == '-' || c == '+') && chomp == ' ') {
        chomp = c;
      } else if (c >= '1' && c <= '9' && explicit_indent == 0) {
        explicit_indent = c - '0';
      } else {
        break;
      }
    }
    std::string_view after = head.text.substr(i);
    size_t k = after.find_first_not_of(' ');
    if (k != std::string_view::npos && (after[k] != '#' || k == 0)) {
      return Error(head.number, "unexpected text after a block scalar indicator");
    }
    ++pos_;
    int content_indent = explicit_indent ? std::max(parent, 0) + explicit_indent : -1;
    std::vector<std::string_view> body;
    while (pos_ < lines_.size()) {
      const Line& l = lines_[pos_];
      if (l.text.empty()) {
        body.push_back({});
        ++pos_;
        continue;
      }
      if (content_indent < 0) {
        if (l.indent <= parent) break;
        content_indent = l.indent;
      }
      if (l.indent < content_indent) break;
      body.push_back(l.raw.substr(size_t(content_indent)));
      ++pos_;
    }
    size_t trailing_blank = 0;
    while (!body.empty() && body.back().empty()) {
      body.pop_back();
      ++trailing_blank;
    }
    std::string value;
    for (size_t j = 0; j < body.size(); ++j) {
      if (j > 0) {
        // Folding (">") joins two lines of text with a space; each blank line
        // stands for one line end; more-indented lines keep theirs.
        auto indented = [](std::string_view s) { return !s.empty() && s[0] == ' '; };
        if (literal || body[j].empty() || indented(body[j]) || indented(body[j - 1])) {
          value += '\n';
        } else if (!body[j - 1].empty()) {
          value += ' ';
        }
      }
      value += body[j];
    }
    if (!body.empty() && chomp != '-') value += '\n';
    if (chomp == '+') value.append(trailing_blank, '\n');
    Node node{Node::Kind::kScalar, std::move(value), {}, {}};
    return node;
  }

  void SkipFlowSpace(size_t* o) const {
    while (*o < body_.size()) {
      char c = body_[*o];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++*o;
      } else if (c == '#' && (*o == 0 || std::strchr(" \t\r\n", body_[*o - 1]))) {
        while (*o < body_.size() && body_[*o] != '\n') ++*o;
      } else {
        break;
      }
    }
  }

  // A flow collection or scalar at body_[*o]; leaves *o after it.
  Result<Node> ParseFlow(size_t* o, int depth) {
    SkipFlowSpace(o);
    if (*o >= body_.size()) return Error(LineOfOffset(*o), "the front matter ends inside a [...] or {...}");
    char c = body_[*o];
    size_t line = LineOfOffset(*o);
    if (c == '[' || c == '{') {
      ARCA_RETURN_IF_ERROR(CheckDepth(depth, line));
      ARCA_RETURN_IF_ERROR(CountNode());
      bool is_list = c == '[';
      char close = is_list ? ']' : '}';
      Node node;
      node.kind = is_list ? Node::Kind::kList : Node::Kind::kMap;
      ++*o;
      for (;;) {
        SkipFlowSpace(o);
        if (*o >= body_.size()) return Error(line, std::string("'") + c + "' is never closed");
        if (body_[*o] == close) {
          ++*o;
          return node;
        }
        if (is_list) {
          ARCA_ASSIGN_OR_RETURN(Node item, ParseFlow(o, depth + 1));
          node.items.push_back(std::move(item));
        } else {
          ARCA_ASSIGN_OR_RETURN(Node key, ParseFlow(o, depth + 1));
          if (key.kind == Node::Kind::kList || key.kind == Node::Kind::kMap) {
            return Error(LineOfOffset(*o), "a key must be a plain or quoted string");
          }
          SkipFlowSpace(o);
          Node value;
          if (*o < body_.size() && body_[*o] == ':') {
            ++*o;
            SkipFlowSpace(o);
            if (*o < body_.size() && body_[*o] != ',' && body_[*o] != '}') {
              ARCA_ASSIGN_OR_RETURN(value, ParseFlow(o, depth + 1));
            }
          }
          node.entries.emplace_back(std::move(key.scalar), std::move(value));
        }
        SkipFlowSpace(o);
        if (*o < body_.size() && body_[*o] == ',') {
          ++*o;
        } else if (*o >= body_.size() || body_[*o] != close) {
          return Error(LineOfOffset(*o), std::string("expected ',' or '") + close + "' to close the '" + c +
                                             "' of line " + std::to_string(line));
        }
      }
    }
    ARCA_RETURN_IF_ERROR(CountNode());
    Node node;
    node.kind = Node::Kind::kScalar;
    if (c == '"' || c == '\'') {
      ARCA_ASSIGN_OR_RETURN(node.scalar, ParseQuoted(o, body_.size()));
      return node;
    }
    if (IsUnsupportedIndicator(c) || c == '|' || c == '>' || c == ']' || c == '}' || c == ',') {
      return Error(line, std::string("unexpected '") + c + "'");
    }
    // Plain scalar in flow context: ends at , [ ] { }, ": " or " #"; line
    // ends fold into one space.
    std::string value;
    while (*o < body_.size()) {
      char d = body_[*o];
      if (d == ',' || d == '[' || d == ']' || d == '{' || d == '}') break;
      if (d == ':' && (*o + 1 == body_.size() || std::strchr(" \t\r\n,]}", body_[*o + 1]))) break;
      if (d == '#' && !value.empty() && value.back() == ' ') break;
      if (d == '\n' || d == '\r' || d == '\t') d = ' ';
      if (d != ' ' || (!value.empty() && value.back() != ' ')) value += d;
      ++*o;
    }
    value = std::string(TrimRight(value));
    if (IsNullWord(value)) node.kind = Node::Kind::kNull;
    node.scalar = std::move(value);
    return node;
  }

  // A single- or double-quoted scalar at body_[*o], not reaching past `end`;
  // line ends inside fold as YAML says (one line end -> space).
  Result<std::string> ParseQuoted(size_t* o, size_t end) {
    const char quote = body_[*o];
    const size_t line = LineOfOffset(*o);
    std::string out;
    size_t keep = 0;  // out.size() after the last character that trailing-space trimming must keep
    size_t i = *o + 1;
    while (i < end) {
      char c = body_[i];
      if (c == quote) {
        if (quote == '\'' && i + 1 < end && body_[i + 1] == '\'') {
          out += '\'';
          keep = out.size();
          i += 2;
          continue;
        }
        *o = i + 1;
        return out;
      }
      if (c == '\n' || c == '\r') {
        out.resize(keep);
        size_t newlines = 0;
        while (i < end && std::strchr(" \t\r\n", body_[i])) newlines += body_[i++] == '\n';
        if (newlines <= 1) {
          out += ' ';
        } else {
          out.append(newlines - 1, '\n');
        }
        keep = out.size();
        continue;
      }
      if (quote == '"' && c == '\\') {
        if (i + 1 >= end) break;
        char e = body_[i + 1];
        i += 2;
        uint32_t cp = 0;
        int hex = 0;
        switch (e) {
          case '0': return Error(line, "\\0 (NUL) is not allowed in a string");
          case 'a': out += '\a'; break;
          case 'b': out += '\b'; break;
          case 't': case '\t': out += '\t'; break;
          case 'n': out += '\n'; break;
          case 'v': out += '\v'; break;
          case 'f': out += '\f'; break;
          case 'r': out += '\r'; break;
          case 'e': out += '\x1b'; break;
          case ' ': out += ' '; break;
          case '"': out += '"'; break;
          case '/': out += '/'; break;
          case '\\': out += '\\'; break;
          case 'N': AppendUtf8(0x85, &out); break;
          case '_': AppendUtf8(0xA0, &out); break;
          case 'L': AppendUtf8(0x2028, &out); break;
          case 'P': AppendUtf8(0x2029, &out); break;
          case 'x': hex = 2; break;
          case 'u': hex = 4; break;
          case 'U': hex = 8; break;
          case '\r': case '\n':
            // An escaped line end joins the lines without a space.
            --i;
            while (i < end && std::strchr(" \t\r\n", body_[i])) ++i;
            break;
          default:
            return Error(LineOfOffset(i - 1), std::string("unknown escape \\") + e + " in a double-quoted string");
        }
        for (int h = 0; h < hex; ++h, ++i) {
          char x = i < end ? body_[i] : '\0';
          int v = (x >= '0' && x <= '9') ? x - '0' : (x >= 'a' && x <= 'f') ? x - 'a' + 10 : (x >= 'A' && x <= 'F') ? x - 'A' + 10 : -1;
          if (v < 0) return Error(LineOfOffset(i), "bad hex digit in a \\x, \\u or \\U escape");
          cp = cp * 16 + uint32_t(v);
        }
        if (hex) {
          if (cp == 0) return Error(line, "\\0 (NUL) is not allowed in a string");
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return Error(line, "escape names no Unicode scalar value");
          }
          AppendUtf8(cp, &out);
        }
        keep = out.size();
        continue;
      }
      out += c;
      if (c != ' ' && c != '\t') keep = out.size();
      ++i;
    }
    return Error(line, std::string("string opened with ") + quote + " is never closed");
  }

  std::string_view body_;
  std::vector<Line> lines_;
  size_t pos_ = 0;
  size_t nodes_ = 0;
};

const Node* Find(const Node& map, std::string_view key) {
  for (const auto& [k, v] : map.entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

Status GetString(const Node& root, std::string_view key, std::string* out) {
  const Node* n = Find(root, key);
  if (n == nullptr || n->kind == Node::Kind::kNull) return Status::Ok();
  if (n->kind != Node::Kind::kScalar) {
    return InvalidArgumentError("README.md front matter: \"" + std::string(key) + "\" must be a single string");
  }
  if (n->scalar.size() > format::kMaxStringBytes) {
    return ResourceExhaustedError("README.md front matter: \"" + std::string(key) + "\" is longer than " +
                                  std::to_string(format::kMaxStringBytes) + " bytes");
  }
  *out = n->scalar;
  return Status::Ok();
}

// A string or a list of strings; nulls and empty strings are dropped.
Status GetStringList(const Node& root, std::string_view key, std::vector<std::string>* out) {
  const Node* n = Find(root, key);
  if (n == nullptr || n->kind == Node::Kind::kNull) return Status::Ok();
  std::vector<const Node*> items;
  if (n->kind == Node::Kind::kScalar) {
    items.push_back(n);
  } else if (n->kind == Node::Kind::kList) {
    if (n->items.size() > format::kMaxListEntries) {
      return ResourceExhaustedError("README.md front matter: \"" + std::string(key) + "\" has more than " +
                                    std::to_string(format::kMaxListEntries) + " entries");
    }
    for (const Node& item : n->items) items.push_back(&item);
  } else {
    return InvalidArgumentError("README.md front matter: \"" + std::string(key) +
                                "\" must be a string or a list of strings, not a map");
  }
  for (const Node* item : items) {
    if (item->kind == Node::Kind::kNull) continue;
    if (item->kind != Node::Kind::kScalar) {
      return InvalidArgumentError("README.md front matter: \"" + std::string(key) +
                                  "\" entries must be strings");
    }
    if (item->scalar.size() > format::kMaxStringBytes) {
      return ResourceExhaustedError("README.md front matter: an entry of \"" + std::string(key) +
                                    "\" is longer than " + std::to_string(format::kMaxStringBytes) + " bytes");
    }
    if (!item->scalar.empty()) out->push_back(item->scalar);
  }
  return Status::Ok();
}

// Hugging Face licence ids with a well-known SPDX identifier. HF's "gpl-3.0"
// etc. do not say "or later", so they map to the "-only" identifiers, the
// grant the id states. Everything else becomes a LicenseRef.
constexpr std::pair<std::string_view, std::string_view> kHfToSpdx[] = {
    {"agpl-3.0", "AGPL-3.0-only"},       {"apache-2.0", "Apache-2.0"},
    {"bsd-2-clause", "BSD-2-Clause"},    {"bsd-3-clause", "BSD-3-Clause"},
    {"bsl-1.0", "BSL-1.0"},              {"cc-by-4.0", "CC-BY-4.0"},
    {"cc-by-nc-4.0", "CC-BY-NC-4.0"},    {"cc-by-nc-nd-4.0", "CC-BY-NC-ND-4.0"},
    {"cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0"}, {"cc-by-sa-4.0", "CC-BY-SA-4.0"},
    {"cc0-1.0", "CC0-1.0"},              {"gpl-2.0", "GPL-2.0-only"},
    {"gpl-3.0", "GPL-3.0-only"},         {"lgpl-2.1", "LGPL-2.1-only"},
    {"lgpl-3.0", "LGPL-3.0-only"},       {"mit", "MIT"},
    {"mpl-2.0", "MPL-2.0"},              {"unlicense", "Unlicense"},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(uint8_t(a[i])) != std::tolower(uint8_t(b[i]))) return false;
  }
  return true;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

Result<std::string> SpdxFromHfLicense(std::string_view hf_id, std::string_view license_name) {
  if (hf_id.empty()) return std::string();
  for (const auto& [hf, spdx] : kHfToSpdx) {
    if (EqualsIgnoreCase(hf_id, hf) || EqualsIgnoreCase(hf_id, spdx)) return std::string(spdx);
  }
  std::string_view id = hf_id;
  if (EqualsIgnoreCase(hf_id, "other") && !license_name.empty()) id = license_name;
  constexpr size_t kMaxIdBytes = 256;
  if (id.size() > kMaxIdBytes) {
    return InvalidArgumentError("licence id \"" + std::string(id.substr(0, 40)) + "...\" is longer than " +
                                std::to_string(kMaxIdBytes) + " bytes; give the licence explicitly");
  }
  std::string ref = "LicenseRef-";
  bool any = false;
  for (char c : id) {
    bool ok = std::isalnum(uint8_t(c)) || c == '.' || c == '-';
    ref += ok ? c : '-';
    any = any || std::isalnum(uint8_t(c));
  }
  if (!any) {
    return InvalidArgumentError("licence \"" + std::string(id) +
                                "\" has no letters or digits to name an SPDX LicenseRef; give the licence explicitly");
  }
  return ref;
}

Result<ModelCard> ParseModelCard(std::string_view readme) {
  ModelCard card;
  if (readme.substr(0, 3) == "\xEF\xBB\xBF") readme.remove_prefix(3);
  size_t eol = readme.find('\n');
  std::string_view first = readme.substr(0, eol);
  if (TrimRight(first) != "---") return card;  // no front matter
  if (eol == std::string_view::npos) return InvalidArgumentError("README.md: front matter opened with \"---\" is never closed");
  size_t body_start = eol + 1;
  // The closing "---" line.
  size_t pos = body_start, body_end = std::string_view::npos;
  while (pos < readme.size()) {
    size_t end = readme.find('\n', pos);
    if (end == std::string_view::npos) end = readme.size();
    if (pos - body_start > kMaxFrontMatterBytes) break;
    std::string_view l = TrimRight(readme.substr(pos, end - pos));
    if (l == "---") {
      body_end = pos;
      break;
    }
    pos = end + 1;
  }
  if (body_end == std::string_view::npos) {
    if (readme.size() - body_start > kMaxFrontMatterBytes) {
      return ResourceExhaustedError("README.md: front matter is not closed within " +
                                    std::to_string(kMaxFrontMatterBytes) + " bytes");
    }
    return InvalidArgumentError("README.md: front matter opened with \"---\" on line 1 is never closed by a \"---\" line");
  }
  if (body_end - body_start > kMaxFrontMatterBytes) {
    return ResourceExhaustedError("README.md: front matter is longer than " + std::to_string(kMaxFrontMatterBytes) +
                                  " bytes");
  }
  std::string_view body = readme.substr(body_start, body_end - body_start);
  if (!format::IsValidUtf8(body)) return InvalidArgumentError("README.md: front matter is not valid UTF-8 text");
  for (size_t i = 0; i < body.size(); ++i) {
    uint8_t c = uint8_t(body[i]);
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F) {
      size_t at = 2 + size_t(std::count(body.begin(), body.begin() + long(i), '\n'));
      return InvalidArgumentError("README.md line " + std::to_string(at) + ": control byte " + std::to_string(c) +
                                  " in the front matter (binary data?)");
    }
  }
  YamlParser parser(body, 2);
  ARCA_ASSIGN_OR_RETURN(Node root, parser.ParseDocument());
  card.has_front_matter = true;
  ARCA_RETURN_IF_ERROR(GetString(root, "license_name", &card.license_name));
  ARCA_RETURN_IF_ERROR(GetString(root, "license_link", &card.license_link));
  if (const Node* lic = Find(root, "license"); lic && lic->kind == Node::Kind::kList) {
    // HF allows a list; one entry is one licence, several have no stated
    // combination (AND? OR?), so they are refused rather than guessed.
    if (lic->items.size() == 1 && lic->items[0].kind == Node::Kind::kScalar) {
      card.license = lic->items[0].scalar;
    } else {
      return InvalidArgumentError("README.md front matter: \"license\" lists several licences; Arca needs one SPDX "
                                  "expression (give it explicitly, e.g. \"Apache-2.0 OR MIT\")");
    }
  } else {
    ARCA_RETURN_IF_ERROR(GetString(root, "license", &card.license));
  }
  ARCA_RETURN_IF_ERROR(GetStringList(root, "base_model", &card.base_model_names));
  ARCA_RETURN_IF_ERROR(GetStringList(root, "datasets", &card.datasets));
  Result<std::string> spdx = SpdxFromHfLicense(card.license, card.license_name);
  if (!spdx.ok()) return InvalidArgumentError("README.md front matter: " + std::string(spdx.status().message()));
  card.spdx = std::move(*spdx);
  return card;
}

Result<format::Metadata> MetadataFromModelDir(const std::string& dir, format::Metadata defaults) {
  const std::string readme_path = dir + "/README.md";
  ModelCard card;
  struct stat st;
  if (::lstat(readme_path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return InvalidArgumentError(readme_path + " is not a regular file (a symlink?); the model card is not read");
    }
    // Only the front matter matters: read at most its limit plus room for
    // the delimiter lines, so a long Markdown body costs nothing.
    ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(readme_path));
    if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + readme_path);
    std::string text(std::min<uint64_t>(uint64_t(st.st_size), kMaxFrontMatterBytes + 4096), '\0');
    ARCA_RETURN_IF_ERROR(PreadAll(fd.get(), std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size()),
                                  0, readme_path));
    Result<ModelCard> parsed = ParseModelCard(text);
    if (!parsed.ok()) {
      return Status(parsed.status().code(), dir + "/" + std::string(parsed.status().message()));
    }
    card = std::move(*parsed);
  } else if (errno != ENOENT) {
    return ErrnoToStatus(errno, "stat " + readme_path);
  }

  format::Metadata m = std::move(defaults);
  if (m.license.spdx.empty()) m.license.spdx = card.spdx;
  if (m.provenance.base_model_names.empty()) m.provenance.base_model_names = card.base_model_names;
  if (m.provenance.datasets.empty()) m.provenance.datasets = card.datasets;
  if (m.license.file.empty() && !m.license.spdx.empty()) {
    if (!card.license_link.empty() && format::ValidateBundlePath(card.license_link).ok() &&
        IsRegularFile(dir + "/" + card.license_link)) {
      m.license.file = card.license_link;
    } else {
      for (std::string_view name : kLicenseFileNames) {
        if (IsRegularFile(dir + "/" + std::string(name))) {
          m.license.file = std::string(name);
          break;
        }
      }
    }
  }
  return m;
}

}  // namespace arca::client
