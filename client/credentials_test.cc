#include "client/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "common/testing.h"

namespace arca::client {
namespace {

using arca::testing::TempDir;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(CredentialsTest, SaveCreatesPrivateFileAndRoundTrips) {
  TempDir dir;
  const std::string path = dir / "config/arca/credentials.json";
  Credentials c;
  c.Set("localhost:5000", "tok-1");
  c.Set("[::1]:443", "tok-2");
  ASSERT_OK(c.Save(path));
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(dir / "config/arca"), 0700u);

  Result<Credentials> back = Credentials::Load(path);
  ASSERT_OK(back);
  EXPECT_EQ(back->Get("localhost:5000"), "tok-1");
  EXPECT_EQ(back->Get("[::1]:443"), "tok-2");
  EXPECT_FALSE(back->Get("localhost:5001"));

  EXPECT_TRUE(back->Remove("localhost:5000"));
  EXPECT_FALSE(back->Remove("localhost:5000"));
  ASSERT_OK(back->Save(path));
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(Credentials::Load(path)->size(), 1u);
}

TEST(CredentialsTest, MissingFileIsEmpty) {
  TempDir dir;
  Result<Credentials> c = Credentials::Load(dir / "nope.json");
  ASSERT_OK(c);
  EXPECT_EQ(c->size(), 0u);
}

TEST(CredentialsTest, RefusesFileReadableByOthers) {
  TempDir dir;
  const std::string path = dir / "credentials.json";
  Credentials c;
  c.Set("localhost:5000", "tok");
  ASSERT_OK(c.Save(path));
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    Result<Credentials> r = Credentials::Load(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.status().message().find("chmod 600 " + path), std::string_view::npos) << r.status();
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_OK(Credentials::Load(path));
  // Saving over a loose file leaves a private one.
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_OK(c.Save(path));
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST(CredentialsTest, MalformedFileIsAnError) {
  TempDir dir;
  const std::string path = dir / "credentials.json";
  for (const char* text : {"not json", "[]", "{\"registries\": []}", "{\"registries\": {\"a:1\": {\"token\": 5}}}"}) {
    { std::ofstream(path) << text; }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    EXPECT_EQ(Credentials::Load(path).status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(CredentialsTest, Tokens) {
  EXPECT_OK(ValidateToken("arca_0123abcDEF-_.~"));
  EXPECT_FALSE(ValidateToken("").ok());
  EXPECT_FALSE(ValidateToken("a b").ok());
  EXPECT_FALSE(ValidateToken("a\nb").ok());
  EXPECT_FALSE(ValidateToken(std::string(5000, 'a')).ok());
}

TEST(CredentialsTest, TokenForUsesEnvironmentThenFile) {
  TempDir dir;
  ::setenv("XDG_CONFIG_HOME", dir.path().c_str(), 1);
  ::unsetenv("ARCA_TOKEN");
  EXPECT_EQ(DefaultCredentialsPath(), dir / "arca/credentials.json");
  Result<std::optional<std::string>> none = TokenFor("localhost:5000");
  ASSERT_OK(none);
  EXPECT_FALSE(*none);

  Credentials c;
  c.Set("localhost:5000", "from-file");
  ASSERT_OK(c.Save(DefaultCredentialsPath()));
  EXPECT_EQ(*TokenFor("localhost:5000"), "from-file");
  EXPECT_FALSE(*TokenFor("localhost:5001"));

  ::setenv("ARCA_TOKEN", "from-env", 1);
  EXPECT_EQ(*TokenFor("localhost:5001"), "from-env");
  ::unsetenv("ARCA_TOKEN");

  ASSERT_EQ(::chmod(DefaultCredentialsPath().c_str(), 0644), 0);
  EXPECT_EQ(TokenFor("localhost:5000").status().code(), StatusCode::kPermissionDenied);
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace arca::client
