#include "client/model_card.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "common/testing.h"

namespace arca::client {
namespace {

using arca::testing::TempDir;
using ::testing::HasSubstr;

// Cards below are written for these tests in the shape of real ones: the
// keys, nesting and quoting that Qwen, Llama and Mistral cards use.

constexpr std::string_view kQwenLike = R"(---
license: apache-2.0
license_link: https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE
language:
- en
pipeline_tag: text-generation
base_model: Qwen/Qwen2.5-7B
tags:
- chat
library_name: transformers
---

# Qwen2.5-7B-Instruct

## Introduction
license: this line is Markdown, not metadata
)";

constexpr std::string_view kLlamaLike = R"(---
language:
  - en
  - de
  - fr
library_name: transformers
license: llama3.1
base_model: meta-llama/Meta-Llama-3.1-8B
pipeline_tag: text-generation
tags: [facebook, meta, pytorch, llama, llama-3]
extra_gated_prompt: >-
  ### LLAMA 3.1 COMMUNITY LICENSE AGREEMENT

  Llama 3.1 Version Release Date: July 23, 2024
  "Agreement" means the terms and conditions for use, reproduction,
  distribution and modification of the Llama Materials set forth herein.
extra_gated_fields:
  First Name: text
  Last Name: text
  Date of birth: date_picker
  Country: country
  geo: ip_location
  ? By clicking Submit below I accept the terms of the license
  : checkbox
extra_gated_button_content: Submit
---
)";

// The '?' complex key above is YAML that this subset refuses; real Llama
// cards write that field as a quoted key, which the next card uses.
constexpr std::string_view kLlamaLikeQuoted = R"(---
language:
  - en
library_name: transformers
license: llama3.1
base_model: meta-llama/Meta-Llama-3.1-8B
extra_gated_prompt: >-
  ### LLAMA 3.1 COMMUNITY LICENSE AGREEMENT

  "Agreement" means the terms and conditions for use, reproduction,
  distribution and modification.
extra_gated_fields:
  First Name: text
  "By clicking Submit below I accept the terms of the license and acknowledge that the information I provide will be collected": checkbox
widget:
  - example_title: Hello
    messages:
      - role: user
        content: |
          Hey my name is Julien!
          How are you?
---
)";

// CRLF line ends, comments, a base_model list, datasets, quoted strings with
// escapes, flow maps and a model-index tree.
constexpr std::string_view kMistralLikeCrlf =
    "---\r\n"
    "# Fine-tune of two bases, merged.\r\n"
    "license: \"cc-by-nc-4.0\"   # non-commercial\r\n"
    "base_model:\r\n"
    "- mistralai/Mistral-7B-v0.1\r\n"
    "- 'teknium/OpenHermes-2.5-Mistral-7B'\r\n"
    "datasets:\r\n"
    "  - HuggingFaceH4/ultrachat_200k   \r\n"
    "  - \"Open-Orca/Slim\\u00D6rca\"\r\n"
    "model-index:\r\n"
    "- name: merged-7b\r\n"
    "  results:\r\n"
    "  - task:\r\n"
    "      type: text-generation\r\n"
    "      name: Text Generation\r\n"
    "    dataset:\r\n"
    "      name: AI2 Reasoning Challenge (25-Shot)\r\n"
    "      type: ai2_arc\r\n"
    "      config: ARC-Challenge\r\n"
    "      split: test\r\n"
    "      args:\r\n"
    "        num_few_shot: 25\r\n"
    "    metrics:\r\n"
    "    - type: acc_norm\r\n"
    "      value: 66.04\r\n"
    "      name: normalized accuracy\r\n"
    "    - {type: acc, value: 63.1, name: 'accuracy, raw'}\r\n"
    "    source:\r\n"
    "      url: https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard?query=x\r\n"
    "      name: Open LLM Leaderboard\r\n"
    "quote: 'it''s \"fine\"'\r\n"
    "escapes: \"tab\\there \\\"q\\\" \\\\ \\x41\"\r\n"
    "folded: plain text that\r\n"
    "  goes on over two lines\r\n"
    "---\r\n"
    "# Merged 7B\r\n";

TEST(ModelCardTest, QwenLike) {
  auto card = ParseModelCard(kQwenLike);
  ASSERT_OK(card);
  EXPECT_TRUE(card->has_front_matter);
  EXPECT_EQ(card->license, "apache-2.0");
  EXPECT_EQ(card->spdx, "Apache-2.0");
  EXPECT_EQ(card->license_link, "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE");
  EXPECT_EQ(card->base_model_names, std::vector<std::string>{"Qwen/Qwen2.5-7B"});
  EXPECT_TRUE(card->datasets.empty());
}

TEST(ModelCardTest, LlamaLike) {
  // A complex key ('?') is outside the subset: refused with the line.
  auto refused = ParseModelCard(kLlamaLike);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("line 23"));

  auto card = ParseModelCard(kLlamaLikeQuoted);
  ASSERT_OK(card);
  EXPECT_EQ(card->spdx, "LicenseRef-llama3.1");
  EXPECT_EQ(card->base_model_names, std::vector<std::string>{"meta-llama/Meta-Llama-3.1-8B"});
}

TEST(ModelCardTest, MistralLikeCrlfWithModelIndex) {
  auto card = ParseModelCard(kMistralLikeCrlf);
  ASSERT_OK(card);
  EXPECT_EQ(card->license, "cc-by-nc-4.0");
  EXPECT_EQ(card->spdx, "CC-BY-NC-4.0");
  EXPECT_EQ(card->base_model_names,
            (std::vector<std::string>{"mistralai/Mistral-7B-v0.1", "teknium/OpenHermes-2.5-Mistral-7B"}));
  EXPECT_EQ(card->datasets, (std::vector<std::string>{"HuggingFaceH4/ultrachat_200k", "Open-Orca/Slim\xC3\x96rca"}));
}

TEST(ModelCardTest, OtherLicenceWithName) {
  auto card = ParseModelCard(
      "---\nlicense: other\nlicense_name: qwen-research\nlicense_link: LICENSE\n"
      "datasets: roneneldan/TinyStories\nbase_model: [a/b, \"c/d\"]\n---\n");
  ASSERT_OK(card);
  EXPECT_EQ(card->spdx, "LicenseRef-qwen-research");
  EXPECT_EQ(card->datasets, std::vector<std::string>{"roneneldan/TinyStories"});
  EXPECT_EQ(card->base_model_names, (std::vector<std::string>{"a/b", "c/d"}));

  auto bare = ParseModelCard("---\nlicense: other\n---\n");
  ASSERT_OK(bare);
  EXPECT_EQ(bare->spdx, "LicenseRef-other");
}

TEST(ModelCardTest, LicenceMapping) {
  struct Case {
    const char* hf;
    const char* spdx;
  };
  for (const Case& c : {Case{"apache-2.0", "Apache-2.0"}, Case{"mit", "MIT"}, Case{"MIT", "MIT"},
                        Case{"bsd-3-clause", "BSD-3-Clause"}, Case{"gpl-3.0", "GPL-3.0-only"},
                        Case{"cc-by-nc-4.0", "CC-BY-NC-4.0"}, Case{"Apache-2.0", "Apache-2.0"},
                        Case{"llama3.1", "LicenseRef-llama3.1"}, Case{"gemma", "LicenseRef-gemma"},
                        Case{"bigscience-openrail-m", "LicenseRef-bigscience-openrail-m"},
                        Case{"my licence/v2", "LicenseRef-my-licence-v2"}, Case{"", ""}}) {
    auto got = SpdxFromHfLicense(c.hf, "");
    ASSERT_OK(got);
    EXPECT_EQ(*got, c.spdx) << c.hf;
  }
  EXPECT_FALSE(SpdxFromHfLicense("???", "").ok());
  EXPECT_FALSE(SpdxFromHfLicense(std::string(300, 'a'), "").ok());
}

TEST(ModelCardTest, NoFrontMatterAndNulls) {
  auto none = ParseModelCard("# Just a README\n\n---\nlicense: mit\n---\n");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_front_matter);
  EXPECT_TRUE(none->spdx.empty());

  auto empty = ParseModelCard("---\n---\nbody");
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->has_front_matter);

  auto nulls = ParseModelCard("---\nlicense: ~\nbase_model:\ndatasets: [null, x/y]\n---\n");
  ASSERT_OK(nulls);
  EXPECT_TRUE(nulls->spdx.empty());
  EXPECT_TRUE(nulls->base_model_names.empty());
  EXPECT_EQ(nulls->datasets, std::vector<std::string>{"x/y"});

  // A byte order mark before the first "---" is skipped.
  auto bom = ParseModelCard("\xEF\xBB\xBF---\nlicense: mit\n---\n");
  ASSERT_OK(bom);
  EXPECT_EQ(bom->spdx, "MIT");
}

TEST(ModelCardTest, BlockScalars) {
  // Values of other keys are dropped, but they must parse for the keys after
  // them to be read: a block scalar holding "key: value" lines and "- " lines.
  auto card = ParseModelCard(
      "---\nprompt: |\n  license: gpl-3.0\n  - not a list\n\n  end\nnote: >+\n  a\n  b\n\nlicense: mit\n---\n");
  ASSERT_OK(card);
  EXPECT_EQ(card->spdx, "MIT");
}

// Scalar forms, read back through "datasets" (a list of strings).
TEST(ModelCardTest, ScalarForms) {
  auto card = ParseModelCard(
      "---\n"
      "datasets:\n"
      "- plain words # a comment\n"
      "- plain folded\n"
      "  over lines\n"
      "- 'it''s # not a comment'\n"
      "- \"esc: \\t\\\"\\\\\\u00e9\\U0001F600\\x41\"\n"
      "- \"folded\n"
      "   double\n"
      "\n"
      "   quoted\"\n"
      "- \"joined\\\n"
      "   line\"\n"
      "- [in, flow]  # a list inside the list is not a string...\n"
      "---\n");
  ASSERT_FALSE(card.ok());  // ...so it is refused
  card = ParseModelCard(
      "---\n"
      "datasets:\n"
      "- plain words # a comment\n"
      "- plain folded\n"
      "  over lines\n"
      "- 'it''s # not a comment'\n"
      "- \"esc: \\t\\\"\\\\\\u00e9\\U0001F600\\x41\"\n"
      "- \"folded\n"
      "   double\n"
      "\n"
      "   quoted\"\n"
      "- \"joined\\\n"
      "   line\"\n"
      "base_model: [ a/b,  # first\n"
      "   'c/d' ,\n"
      "   e f\n"
      "   g ]\n"
      "---\n");
  ASSERT_OK(card);
  EXPECT_EQ(card->datasets, (std::vector<std::string>{"plain words", "plain folded over lines",
                                                      "it's # not a comment",
                                                      "esc: \t\"\\\xC3\xA9\xF0\x9F\x98\x80" "A",
                                                      "folded double\nquoted", "joinedline"}));
  EXPECT_EQ(card->base_model_names, (std::vector<std::string>{"a/b", "c/d", "e f g"}));
}

struct Hostile {
  std::string what;
  std::string text;
  StatusCode code;
  std::string message;  // a part of the expected message
};

TEST(ModelCardTest, HostileCardsGetClearErrors) {
  std::string deep_block = "---\n";
  for (int i = 0; i < 100; ++i) deep_block += std::string(size_t(i), ' ') + "k:\n";
  deep_block += std::string(100, ' ') + "v\n---\n";
  std::string deep_flow = "---\nk: " + std::string(10000, '[') + std::string(10000, ']') + "\n---\n";
  std::string deep_list = "---\nk:\n";
  for (int i = 0; i < 60; ++i) deep_list += std::string(size_t(2 * i), ' ') + "-\n";
  deep_list += "---\n";
  std::string huge = "---\nk: |\n";
  while (huge.size() <= kMaxFrontMatterBytes + 10) huge += "  " + std::string(1000, 'x') + "\n";
  std::string huge_closed = huge + "---\n";
  std::string many = "---\nk: [";
  for (size_t i = 0; i < kMaxYamlNodes; ++i) many += "a,";
  many += "a]\n---\n";
  std::string binary = "---\nlicense: mit\n" + std::string("\x00\x01\x02\xff", 4) + "\n---\n";

  std::vector<Hostile> cases = {
      {"no closing ---", "---\nlicense: mit\n", StatusCode::kInvalidArgument, "never closed"},
      {"only the opening line", "---", StatusCode::kInvalidArgument, "never closed"},
      {"huge, not closed", huge, StatusCode::kResourceExhausted, "not closed within"},
      {"huge, closed", huge_closed, StatusCode::kResourceExhausted, "1048576 bytes"},
      {"deep block nesting", deep_block, StatusCode::kResourceExhausted, "nested deeper"},
      {"deep flow nesting", deep_flow, StatusCode::kResourceExhausted, "nested deeper"},
      {"deep list nesting", deep_list, StatusCode::kResourceExhausted, "nested deeper"},
      {"too many values", many, StatusCode::kResourceExhausted, "values"},
      {"tab indentation", "---\nlicense: mit\ntags:\n\t- a\n---\n", StatusCode::kInvalidArgument, "line 4: tab"},
      {"binary", binary, StatusCode::kInvalidArgument, "UTF-8"},
      {"control byte", "---\nlicense: m\x01t\n---\n", StatusCode::kInvalidArgument, "line 2: control byte 1"},
      {"unclosed quote", "---\nlicense: \"mit\n---\n", StatusCode::kInvalidArgument, "line 2: string opened"},
      {"unclosed flow", "---\ndatasets: [a, b\nlicense: mit\n---\n", StatusCode::kInvalidArgument,
       "line 3: expected ',' or ']' to close the '[' of line 2"},
      {"duplicate key", "---\nlicense: mit\nlicense: gpl-3.0\n---\n", StatusCode::kInvalidArgument,
       "line 3: duplicate key \"license\""},
      {"licence is a map", "---\nlicense:\n  id: mit\n---\n", StatusCode::kInvalidArgument, "single string"},
      {"several licences", "---\nlicense: [mit, apache-2.0]\n---\n", StatusCode::kInvalidArgument, "several"},
      {"datasets is a map", "---\ndatasets: {a: b}\n---\n", StatusCode::kInvalidArgument, "not a map"},
      {"nested list entry", "---\nbase_model: [[a]]\n---\n", StatusCode::kInvalidArgument, "entries must be strings"},
      {"anchor", "---\nbase: &b x\n---\n", StatusCode::kInvalidArgument, "anchor"},
      {"alias", "---\nbase_model: *b\n---\n", StatusCode::kInvalidArgument, "alias"},
      {"tag", "---\nlicense: !!str mit\n---\n", StatusCode::kInvalidArgument, "tag"},
      {"bad escape", "---\nlicense: \"m\\qt\"\n---\n", StatusCode::kInvalidArgument, "unknown escape \\q"},
      {"NUL escape", "---\nlicense: \"m\\0\"\n---\n", StatusCode::kInvalidArgument, "NUL"},
      {"surrogate escape", "---\nlicense: \"\\ud800\"\n---\n", StatusCode::kInvalidArgument, "Unicode"},
      {"bad indentation", "---\nlicense: mit\n   datasets: x\n---\n", StatusCode::kInvalidArgument, "line 3"},
      {"colon in plain value", "---\nlicense: a: b\n---\n", StatusCode::kInvalidArgument, "cannot contain"},
      {"not a map", "---\n- a\n- b\n---\n", StatusCode::kInvalidArgument, "key: value"},
      {"text after quote", "---\nlicense: \"mit\" x\n---\n", StatusCode::kInvalidArgument, "after the value"},
      {"list on key line", "---\ndatasets: - a\n---\n", StatusCode::kInvalidArgument, "line 2"},
      {"long dataset", "---\ndatasets: " + std::string(5000, 'd') + "\n---\n", StatusCode::kResourceExhausted,
       "longer than"},
  };
  for (const Hostile& c : cases) {
    auto got = ParseModelCard(c.text);
    ASSERT_FALSE(got.ok()) << c.what;
    EXPECT_EQ(got.status().code(), c.code) << c.what << ": " << got.status().ToString();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.message)) << c.what;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("README.md")) << c.what;
  }
}

// Every prefix and many byte flips of a real-shaped card give a card or an
// error, never a crash (run under the sanitizer build to catch overreads).
TEST(ModelCardTest, MutationsNeverCrash) {
  std::string base(kMistralLikeCrlf);
  for (size_t n = 0; n <= base.size(); ++n) (void)ParseModelCard(base.substr(0, n));
  const std::string alphabet = "-:[]{}\"'#|>\n \t\\,?&*!x0";
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 3000; ++i) {
    std::string m = base;
    for (int k = 0; k < 3; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      m[4 + x % (m.size() - 4)] = alphabet[(x >> 32) % alphabet.size()];
    }
    (void)ParseModelCard(m);
  }
}

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary) << data;
}

TEST(ModelCardTest, MetadataFromModelDir) {
  TempDir dir;
  WriteFile(dir / "README.md", kQwenLike);
  WriteFile(dir / "LICENSE.txt", "Apache License 2.0 ...");
  WriteFile(dir / "model.safetensors", "weights");
  format::Metadata defaults;
  defaults.name = "qwen/qwen2.5-7b-instruct";
  defaults.version = "1";
  auto m = MetadataFromModelDir(dir.path(), defaults);
  ASSERT_OK(m);
  EXPECT_EQ(m->name, "qwen/qwen2.5-7b-instruct");
  EXPECT_EQ(m->version, "1");
  EXPECT_EQ(m->license.spdx, "Apache-2.0");
  EXPECT_EQ(m->license.file, "LICENSE.txt");
  EXPECT_EQ(m->provenance.base_model_names, std::vector<std::string>{"Qwen/Qwen2.5-7B"});

  // LICENSE wins over LICENSE.txt; explicit values win over the card.
  WriteFile(dir / "LICENSE", "...");
  defaults.license.spdx = "MIT";
  defaults.provenance.base_model_names = {"given/by-flag"};
  defaults.provenance.datasets = {"flag/data"};
  m = MetadataFromModelDir(dir.path(), defaults);
  ASSERT_OK(m);
  EXPECT_EQ(m->license.spdx, "MIT");
  EXPECT_EQ(m->license.file, "LICENSE");
  EXPECT_EQ(m->provenance.base_model_names, std::vector<std::string>{"given/by-flag"});
  EXPECT_EQ(m->provenance.datasets, std::vector<std::string>{"flag/data"});
  defaults.license.file = "LICENSE.txt";
  m = MetadataFromModelDir(dir.path(), defaults);
  ASSERT_OK(m);
  EXPECT_EQ(m->license.file, "LICENSE.txt");

  // license_link naming a file of the directory is the licence file.
  WriteFile(dir / "README.md", "---\nlicense: other\nlicense_name: tongyi-qianwen\nlicense_link: LICENSE.md\n---\n");
  WriteFile(dir / "LICENSE.md", "...");
  m = MetadataFromModelDir(dir.path(), format::Metadata{});
  ASSERT_OK(m);
  EXPECT_EQ(m->license.spdx, "LicenseRef-tongyi-qianwen");
  EXPECT_EQ(m->license.file, "LICENSE.md");

  // A bad card names the directory's README.md and the line.
  WriteFile(dir / "README.md", "---\nlicense: mit\n\tdatasets: x\n---\n");
  m = MetadataFromModelDir(dir.path(), format::Metadata{});
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(dir.path() + "/README.md"));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("line 3"));
}

TEST(ModelCardTest, MetadataFromDirWithoutCard) {
  TempDir dir;
  format::Metadata defaults;
  auto m = MetadataFromModelDir(dir.path(), defaults);
  ASSERT_OK(m);
  EXPECT_EQ(*m, defaults);  // no licence known: no licence file guessed
  WriteFile(dir / "LICENSE", "MIT ...");
  defaults.license.spdx = "MIT";
  m = MetadataFromModelDir(dir.path(), defaults);
  ASSERT_OK(m);
  EXPECT_EQ(m->license.file, "LICENSE");

  // A README.md that is a symlink is refused, not followed.
  std::filesystem::create_symlink("/etc/hostname", dir / "README.md");
  EXPECT_FALSE(MetadataFromModelDir(dir.path(), defaults).ok());
}

TEST(ModelCardTest, LongMarkdownBodyIsNotRead) {
  TempDir dir;
  std::string readme = "---\nlicense: mit\n---\n" + std::string(8u << 20, 'x');
  WriteFile(dir / "README.md", readme);
  auto m = MetadataFromModelDir(dir.path(), format::Metadata{});
  ASSERT_OK(m);
  EXPECT_EQ(m->license.spdx, "MIT");
}

}  // namespace
}  // namespace arca::client
