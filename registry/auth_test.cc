#include "registry/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "common/digest.h"
#include "common/file.h"
#include "common/testing.h"

namespace arca::registry {
namespace {

TEST(AuthTest, TokensAreRandomAndOnlyTheirHashesAreStored) {
  testing::TempDir tmp;
  const std::string path = tmp / "tokens.json";
  TokenInfo info;
  auto a = CreateToken(path, "acme", Scope::kPush, &info);
  ASSERT_OK(a);
  auto b = CreateToken(path, "*", Scope::kPull);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
  ASSERT_EQ(a->size(), 48u);
  EXPECT_EQ(a->substr(0, 5), "arca_");
  EXPECT_EQ(a->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 5),
            std::string::npos);
  EXPECT_EQ(info.id, HexEncode(Sha256Of(*a).view()).substr(0, 8));

  std::string text = *ReadFile(path, 1 << 20);
  EXPECT_EQ(text.find(a->substr(5)), std::string::npos);
  EXPECT_NE(text.find(HexEncode(Sha256Of(*a).view())), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto list = ReadTokenFile(path);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].ns, "acme");
  EXPECT_EQ((*list)[0].scope, Scope::kPush);
  EXPECT_EQ((*list)[1].ns, "*");
}

TEST(AuthTest, BadNamespacesAndScopesAreRefused) {
  testing::TempDir tmp;
  for (const char* ns : {"", "acme/x", "ACME", "..", "a b", "**"}) {
    EXPECT_EQ(CreateToken(tmp / "t.json", ns, Scope::kPull).status().code(), StatusCode::kInvalidArgument) << ns;
  }
  EXPECT_FALSE(ParseScope("root").ok());
  EXPECT_EQ(*ParseScope("admin"), Scope::kAdmin);
}

TEST(AuthTest, StoreFindsTokensAndNoticesChanges) {
  testing::TempDir tmp;
  const std::string path = tmp / "tokens.json";
  TokenStore store(path);
  auto none = store.Find("arca_nothing");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());

  std::string a = *CreateToken(path, "acme", Scope::kAdmin);
  auto found = store.Find(a);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ns, "acme");
  EXPECT_EQ((*found)->scope, Scope::kAdmin);

  // Removing the token from the file revokes it at once.
  ASSERT_OK(WriteFileAtomic(path, "{\"tokens\": []}", 0600));
  EXPECT_FALSE(store.Find(a)->has_value());
  // A broken file fails closed.
  ASSERT_OK(WriteFileAtomic(path, "{\"tokens\": [", 0600));
  EXPECT_FALSE(store.Find(a).ok());
}

TEST(AuthTest, AccessRules) {
  TokenInfo acme_push;
  acme_push.ns = "acme";
  acme_push.scope = Scope::kPush;
  TokenInfo all_pull;
  all_pull.ns = "*";
  all_pull.scope = Scope::kPull;

  EXPECT_EQ(CheckAccess(nullptr, {Scope::kPull, {}}, false).code(), StatusCode::kUnauthenticated);
  EXPECT_OK(CheckAccess(nullptr, {Scope::kPull, {}}, true));
  EXPECT_EQ(CheckAccess(nullptr, {Scope::kPush, {}}, true).code(), StatusCode::kUnauthenticated);

  EXPECT_OK(CheckAccess(&acme_push, {Scope::kPull, {}}, false));
  EXPECT_OK(CheckAccess(&acme_push, {Scope::kPush, {}}, false));
  EXPECT_OK(CheckAccess(&acme_push, {Scope::kPush, "acme"}, false));
  EXPECT_EQ(CheckAccess(&acme_push, {Scope::kPush, "other"}, false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckAccess(&acme_push, {Scope::kAdmin, "acme"}, false).code(), StatusCode::kPermissionDenied);
  EXPECT_OK(CheckAccess(&all_pull, {Scope::kPull, {}}, false));
  EXPECT_EQ(CheckAccess(&all_pull, {Scope::kPush, "acme"}, false).code(), StatusCode::kPermissionDenied);
}

TEST(AuthTest, BearerHeader) {
  const std::string token = "arca_" + std::string(43, 'a');
  EXPECT_EQ(*ParseBearer("Bearer " + token), token);
  EXPECT_FALSE(ParseBearer("bearer " + token).ok());
  EXPECT_FALSE(ParseBearer("Bearer " + token + " ").ok());
  EXPECT_FALSE(ParseBearer("Basic abc").ok());
  EXPECT_FALSE(ParseBearer("Bearer ").ok());
}

}  // namespace
}  // namespace arca::registry
