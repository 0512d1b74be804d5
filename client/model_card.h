// Hugging Face model cards: the YAML front matter of a model directory's
// README.md, read into an Arca manifest's licence and provenance.
//
// A model card starts with a line "---", then YAML, then another "---" line;
// the Markdown after it is not read. Only the subset of YAML that model cards
// use is accepted: block maps and lists, flow lists and maps, plain, quoted
// and block scalars, comments. Anchors, aliases, tags and multi-document
// streams are refused. Every size is bounded (kMax* below) and hostile input
// gets INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the line, never a crash.
// Keys other than the ones below (model-index trees, widgets, ...) are parsed
// and dropped.
#ifndef ARCA_CLIENT_MODEL_CARD_H_
#define ARCA_CLIENT_MODEL_CARD_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "format/manifest.h"

namespace arca::client {

// Bytes between the two "---" lines.
inline constexpr size_t kMaxFrontMatterBytes = 1 << 20;
// Nesting of block and flow collections.
inline constexpr int kMaxYamlDepth = 32;
// Scalars, lists and maps in the whole front matter.
inline constexpr size_t kMaxYamlNodes = 200000;

struct ModelCard {
  bool has_front_matter = false;  // false for a README without "---" on line 1
  std::string license;            // as written, e.g. "apache-2.0", "other"
  std::string license_name;       // with license "other": e.g. "qwen-research"
  std::string license_link;       // URL or a path within the model directory
  std::string spdx;               // SpdxFromHfLicense(license, license_name); "" without a licence
  std::vector<std::string> base_model_names;  // base_model: one name or a list
  std::vector<std::string> datasets;          // datasets: one name or a list
};

// Parses the front matter of README.md text (CRLF line ends accepted, a
// UTF-8 byte order mark skipped). A README without front matter gives an
// empty card with has_front_matter false. `license`, `license_name`,
// `license_link` must be strings; `base_model` and `datasets` a string or a
// list of strings (null or absent means none).
Result<ModelCard> ParseModelCard(std::string_view readme);

// Maps a Hugging Face licence id to an SPDX licence expression. Well-known
// ids map to their SPDX identifiers (apache-2.0 -> Apache-2.0, mit -> MIT,
// bsd-3-clause -> BSD-3-Clause, gpl-3.0 -> GPL-3.0-only, cc-by-nc-4.0 ->
// CC-BY-NC-4.0, ...: the table in model_card.cc); a licence that already is
// an SPDX id (any case) maps to that id; anything else, e.g. llama3.1 or
// "other" with a license_name, becomes "LicenseRef-<id>" with characters
// outside [A-Za-z0-9.-] replaced by '-'. Empty `hf_id` gives "".
// INVALID_ARGUMENT when nothing usable is left of the id.
Result<std::string> SpdxFromHfLicense(std::string_view hf_id, std::string_view license_name);

// Files tried, in order, as the licence text when none is given.
inline constexpr std::string_view kLicenseFileNames[] = {"LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE"};

// Fills `defaults` from DIR/README.md (when present) and DIR's files.
// Explicit values in `defaults` win, field by field: a non-empty
// license.spdx, license.file, provenance.base_model_names or
// provenance.datasets is kept as given, and only empty ones are taken from
// the card. license.file, when still empty and a licence is known, is the
// card's license_link if that names a regular file in DIR, else the first of
// kLicenseFileNames that is a regular file in DIR. Other fields are returned
// unchanged. Errors name README.md and the line.
Result<format::Metadata> MetadataFromModelDir(const std::string& dir, format::Metadata defaults);

}  // namespace arca::client

#endif  // ARCA_CLIENT_MODEL_CARD_H_
