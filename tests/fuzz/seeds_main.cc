// arca-fuzz-seeds: writes the generated seed inputs of one fuzz target (or of
// all of them) to a directory, as the starting corpus of a libFuzzer run.
//
//   arca-fuzz-seeds manifest corpus/manifest
//   arca-fuzz-seeds all corpus            (one sub-directory per target)
#include <cstdio>
#include <string>

#include "common/file.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

arca::Status WriteSeeds(std::string_view name, const std::string& dir) {
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> seeds, arca::fuzz::FuzzSeeds(name));
  ARCA_RETURN_IF_ERROR(arca::MakeDirs(dir));
  for (size_t i = 0; i < seeds.size(); ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "/seed-%03zu", i);
    ARCA_RETURN_IF_ERROR(arca::WriteFileAtomic(dir + file, seeds[i]));
  }
  std::printf("%s: %zu seeds in %s\n", std::string(name).c_str(), seeds.size(), dir.c_str());
  return arca::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s {manifest|pack|file_index|codec|all} DIR\n", argv[0]);
    return 2;
  }
  const std::string name = argv[1], dir = argv[2];
  arca::Status s;
  if (name == "all") {
    for (std::string_view t : arca::fuzz::FuzzTargetNames()) {
      s = WriteSeeds(t, dir + "/" + std::string(t));
      if (!s.ok()) break;
    }
  } else {
    s = WriteSeeds(name, dir);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
