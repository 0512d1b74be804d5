// Tests of `arca run --file` (RunGgufCommand) on stories260K.
#include "runtime/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "runtime/internal/test_models.h"

namespace arca::runtime {
namespace {

TEST(CliTest, GreedyRunPrintsTheReferenceText) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K-q8_0-mix.gguf");
  RunOptions o;
  o.file = path;
  o.prompt = "Once upon a time";
  o.tokens = 64;
  o.threads = 1;
  std::ostringstream out, err;
  ASSERT_EQ(RunGgufCommand(o, out, err), 0) << err.str();
  EXPECT_EQ(out.str(),
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One "
            "day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said\n");
  EXPECT_NE(err.str().find("not been verified"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("prompt: 5 tokens"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("generation: 64 tokens"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("tokens/s"), std::string::npos) << err.str();
}

TEST(CliTest, SampledRunIsReproducible) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
  RunOptions o;
  o.file = path;
  o.prompt = "Lily";
  o.tokens = 40;
  o.temperature = 0.9f;
  o.top_k = 40;
  o.top_p = 0.9f;
  o.seed = 7;
  std::ostringstream a, b, c, err;
  ASSERT_EQ(RunGgufCommand(o, a, err), 0) << err.str();
  ASSERT_EQ(RunGgufCommand(o, b, err), 0) << err.str();
  o.seed = 8;
  ASSERT_EQ(RunGgufCommand(o, c, err), 0) << err.str();
  EXPECT_EQ(a.str(), b.str());
  EXPECT_NE(a.str(), c.str());
}

TEST(CliTest, ReportsErrors) {
  std::ostringstream out, err;
  RunOptions o;
  EXPECT_EQ(RunGgufCommand(o, out, err), 2);  // no --file
  o.file = "/nonexistent/model.gguf";
  EXPECT_EQ(RunGgufCommand(o, out, err), 1);
  EXPECT_NE(err.str().find("/nonexistent/model.gguf"), std::string::npos) << err.str();
  o.top_p = 0;
  EXPECT_EQ(RunGgufCommand(o, out, err), 2);
}

}  // namespace
}  // namespace arca::runtime
