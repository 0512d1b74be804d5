// SPDX licence expressions and the licence half of the trust policy
// (policy.h). Grammar (SPDX 2.3 Annex D, without the "+" operator being
// special: "GPL-2.0+" is read as one id):
//
//   or   := and ("OR" and)*
//   and  := with ("AND" with)*
//   with := atom ("WITH" id)?          the left side must be a licence id
//   atom := id | "(" or ")"
//
// AND and OR are kept n-ary (A AND B AND C is one node with three children),
// so the tree is only as deep as the parentheses, which are bounded.
#include <algorithm>
#include <cctype>
#include <optional>

#include "signing/internal/json.h"
#include "signing/policy.h"

namespace arca::signing {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == ':';
}

class ExprParser {
 public:
  explicit ExprParser(std::string_view text) : text_(text) { Tokenize(); }

  Result<std::unique_ptr<LicenseExpr>> Parse() {
    if (!error_.empty()) return InvalidArgumentError(error_);
    if (tokens_.empty()) return InvalidArgumentError("licence expression is empty");
    ARCA_ASSIGN_OR_RETURN(auto e, ParseOr(0));
    if (pos_ != tokens_.size()) {
      return InvalidArgumentError("licence expression \"" + internal::Printable(text_) +
                                  "\": unexpected \"" + internal::Printable(tokens_[pos_]) +
                                  "\" (join licences with AND, OR or WITH)");
    }
    return e;
  }

 private:
  void Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.emplace_back(1, c);
        ++i;
      } else if (IsIdChar(c)) {
        size_t j = i;
        while (j < text_.size() && IsIdChar(text_[j])) ++j;
        tokens_.emplace_back(text_.substr(i, j - i));
        i = j;
      } else {
        error_ = "licence expression \"" + internal::Printable(text_) + "\": character '" +
                 internal::Printable(std::string(1, c)) + "' at byte " + std::to_string(i) +
                 " is not allowed (ids are letters, digits, '.', '-', '+')";
        return;
      }
    }
  }

  bool IsOp(std::string_view op) const {
    return pos_ < tokens_.size() && Lower(tokens_[pos_]) == Lower(op);
  }
  bool IsKeyword(const std::string& t) const {
    const std::string l = Lower(t);
    return l == "and" || l == "or" || l == "with";
  }

  Status Fail(std::string_view why) const {
    std::string at = pos_ < tokens_.size() ? "at \"" + internal::Printable(tokens_[pos_]) + "\"" : "at the end";
    return InvalidArgumentError("licence expression \"" + internal::Printable(text_) + "\": " +
                                std::string(why) + " " + at);
  }

  Result<std::string> ParseId() {
    if (pos_ >= tokens_.size() || tokens_[pos_] == "(" || tokens_[pos_] == ")" || IsKeyword(tokens_[pos_])) {
      return Fail("expected a licence id");
    }
    const std::string& id = tokens_[pos_];
    const size_t colon = id.find(':');
    if (colon != std::string::npos &&
        (Lower(id).rfind("documentref-", 0) != 0 || Lower(id.substr(colon + 1)).rfind("licenseref-", 0) != 0 ||
         id.find(':', colon + 1) != std::string::npos)) {
      return Fail("':' is only allowed in DocumentRef-x:LicenseRef-y");
    }
    ++pos_;
    return id;
  }

  using Node = std::unique_ptr<LicenseExpr>;

  Result<Node> ParseNary(size_t depth, LicenseExpr::Kind kind) {
    const bool is_or = kind == LicenseExpr::Kind::kOr;
    Result<Node> first = is_or ? ParseNary(depth, LicenseExpr::Kind::kAnd) : ParseWith(depth);
    if (!first.ok()) return first;
    if (!IsOp(is_or ? "OR" : "AND")) return first;
    auto node = std::make_unique<LicenseExpr>();
    node->kind = kind;
    node->children.push_back(std::move(first).value());
    while (IsOp(is_or ? "OR" : "AND")) {
      ++pos_;
      ARCA_ASSIGN_OR_RETURN(Node next, is_or ? ParseNary(depth, LicenseExpr::Kind::kAnd) : ParseWith(depth));
      node->children.push_back(std::move(next));
    }
    return node;
  }
  Result<Node> ParseOr(size_t depth) { return ParseNary(depth, LicenseExpr::Kind::kOr); }

  Result<Node> ParseWith(size_t depth) {
    if (pos_ < tokens_.size() && tokens_[pos_] == "(") {
      if (depth + 1 > kMaxLicenseDepth) return Fail("parentheses nest deeper than " + std::to_string(kMaxLicenseDepth));
      ++pos_;
      ARCA_ASSIGN_OR_RETURN(Node inner, ParseOr(depth + 1));
      if (pos_ >= tokens_.size() || tokens_[pos_] != ")") return Fail("expected ')'");
      ++pos_;
      if (IsOp("WITH")) return Fail("WITH must follow a licence id, not a parenthesised expression");
      return inner;
    }
    auto id = std::make_unique<LicenseExpr>();
    ARCA_ASSIGN_OR_RETURN(id->id, ParseId());
    if (!IsOp("WITH")) return id;
    ++pos_;
    auto with = std::make_unique<LicenseExpr>();
    with->kind = LicenseExpr::Kind::kWith;
    ARCA_ASSIGN_OR_RETURN(with->id, ParseId());
    with->children.push_back(std::move(id));
    return with;
  }

  std::string_view text_;
  std::vector<std::string> tokens_;
  size_t pos_ = 0;
  std::string error_;
};

bool Contains(const std::vector<std::string>& list, std::string_view id) {
  const std::string l = Lower(id);
  return std::any_of(list.begin(), list.end(), [&](const std::string& x) { return Lower(x) == l; });
}

std::string ToText(const LicenseExpr& e, bool top) {
  switch (e.kind) {
    case LicenseExpr::Kind::kId:
      return e.id;
    case LicenseExpr::Kind::kWith:
      return ToText(*e.children[0], false) + " WITH " + e.id;
    case LicenseExpr::Kind::kAnd:
    case LicenseExpr::Kind::kOr: {
      std::string out;
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) out += e.kind == LicenseExpr::Kind::kAnd ? " AND " : " OR ";
        out += ToText(*e.children[i], false);
      }
      return top ? out : "(" + out + ")";
    }
  }
  return "";
}

// Why `e` is not acceptable under `lists`, or nullopt when it is.
std::optional<std::string> Refusal(const LicenseExpr& e, const LicensePolicy& lists, std::string_view where) {
  switch (e.kind) {
    case LicenseExpr::Kind::kId:
      if (Contains(lists.deny, e.id)) {
        return "licence " + internal::Printable(e.id) + " is on the deny list of " + std::string(where);
      }
      if (!lists.allow.empty() && !Contains(lists.allow, e.id)) {
        return "licence " + internal::Printable(e.id) + " is not on the allow list of " + std::string(where);
      }
      return std::nullopt;
    case LicenseExpr::Kind::kWith:
      // An exception only adds permissions: judge the licence it modifies.
      return Refusal(*e.children[0], lists, where);
    case LicenseExpr::Kind::kAnd:
      for (const auto& c : e.children) {
        if (auto why = Refusal(*c, lists, where)) return why;
      }
      return std::nullopt;
    case LicenseExpr::Kind::kOr: {
      std::string all;
      for (const auto& c : e.children) {
        auto why = Refusal(*c, lists, where);
        if (!why) return std::nullopt;
        all += (all.empty() ? "" : "; ") + *why;
      }
      return "no alternative of \"" + internal::Printable(ToText(e, true)) + "\" is acceptable: " + all;
    }
  }
  return std::string("unknown licence expression node");
}

}  // namespace

Result<std::unique_ptr<LicenseExpr>> ParseLicenseExpression(std::string_view text) {
  if (text.size() > kMaxLicenseExpressionBytes) {
    return InvalidArgumentError("licence expression is longer than " +
                                std::to_string(kMaxLicenseExpressionBytes) + " bytes");
  }
  return ExprParser(text).Parse();
}

LicenseDecision DecideLicense(const LicensePolicy* lists, std::string_view spdx, std::string_view where) {
  LicenseDecision d;
  const bool has_allow = lists != nullptr && !lists->allow.empty();
  if (spdx.empty()) {
    if (has_allow) {
      d.text = "the bundle states no licence, and " + std::string(where) +
               " accepts only licences on its allow list";
      return d;
    }
    d.accepted = true;
    d.text = "the bundle states no licence (accepted: " + std::string(where) + " has no allow list)";
    return d;
  }
  Result<std::unique_ptr<LicenseExpr>> expr = ParseLicenseExpression(spdx);
  if (!expr.ok()) {
    d.text = "licence refused: " + std::string(expr.status().message());
    return d;
  }
  if (lists == nullptr) {
    d.accepted = true;
    d.text = "licence " + internal::Printable(spdx) + " (no licence lists in " + std::string(where) + ")";
    return d;
  }
  if (std::optional<std::string> why = Refusal(**expr, *lists, where)) {
    d.text = *why;
    return d;
  }
  d.accepted = true;
  d.text = "licence " + internal::Printable(spdx) + " accepted by " + std::string(where);
  return d;
}

}  // namespace arca::signing
