#!/usr/bin/env python3
"""Validates `arca sbom` documents against the official JSON schemas.

usage: validate_sbom.py SCHEMA_DIR DOC_DIR

SCHEMA_DIR holds what scripts/fetch-sbom-schemas.sh fetches:
spdx-export.schema.json (SPDX 3.0.1, JSON Schema draft 2020-12) and
bom-1.6.schema.json (CycloneDX 1.6, draft-07) with the two schemas it refers
to by relative $ref, spdx.schema.json and jsf-0.82.schema.json. Every
*.spdx.json in DOC_DIR is checked against the first, every *.cdx.json
against the second, with format checking where the installed jsonschema
supports the format. Beyond the schemas, a few rules the schemas cannot
express: SPDX ids unique and every reference to an element resolving within
the document; CycloneDX bom-refs unique.

Exit status: 0 all valid; 1 a document is invalid, or the schemas or
jsonschema are missing; 77 (a skip, for ctest) instead of 1 for missing
schemas or jsonschema when ARCA_SKIP_SCHEMA_TESTS=1.

Works with jsonschema 4.10 (Debian bookworm: RefResolver) and with later
versions (the `referencing` library).
"""

import glob
import json
import os
import sys

SPDX_SCHEMA = "spdx-export.schema.json"
CDX_SCHEMA = "bom-1.6.schema.json"
CDX_REFERENCED = ["spdx.schema.json", "jsf-0.82.schema.json"]
SKIP = 77

# SPDX individuals that may stand where an element's id would.
SPDX_INDIVIDUALS = {
    "NoAssertionElement", "NoneElement", "SpdxOrganization",
    "expandedlicensing_NoAssertionLicense", "expandedlicensing_NoneLicense",
}


def missing_setup(message):
    """Fails, or skips when the environment asks for it."""
    if os.environ.get("ARCA_SKIP_SCHEMA_TESTS") == "1":
        print("SKIPPED (ARCA_SKIP_SCHEMA_TESTS=1): " + message)
        sys.exit(SKIP)
    print("FAILED: " + message + "\n(set ARCA_SKIP_SCHEMA_TESTS=1 to skip this test)", file=sys.stderr)
    sys.exit(1)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_validators(schema_dir):
    try:
        import jsonschema
    except ImportError:
        missing_setup("python3 cannot import jsonschema: install python3-jsonschema "
                      "(scripts/install-deps.sh does)")
    wanted = [SPDX_SCHEMA, CDX_SCHEMA] + CDX_REFERENCED
    absent = [n for n in wanted if not os.path.isfile(os.path.join(schema_dir, n))]
    if absent:
        missing_setup("SBOM schemas missing in %s: %s; fetch them with: scripts/fetch-sbom-schemas.sh %s"
                      % (schema_dir, ", ".join(absent), schema_dir))

    spdx = load(os.path.join(schema_dir, SPDX_SCHEMA))
    cdx = load(os.path.join(schema_dir, CDX_SCHEMA))
    referenced = [load(os.path.join(schema_dir, n)) for n in CDX_REFERENCED]
    checker = jsonschema.FormatChecker()

    spdx_cls = jsonschema.validators.validator_for(spdx)
    spdx_cls.check_schema(spdx)
    spdx_validator = spdx_cls(spdx, format_checker=checker)

    cdx_cls = jsonschema.validators.validator_for(cdx)
    cdx_cls.check_schema(cdx)
    # bom-1.6 refers to "spdx.schema.json" and "jsf-0.82.schema.json",
    # relative to its own $id; each of those carries the matching $id.
    try:
        import referencing
        import referencing.jsonschema
        resources = [(s["$id"], referencing.Resource.from_contents(
            s, default_specification=referencing.jsonschema.DRAFT7)) for s in referenced + [cdx]]
        registry = referencing.Registry().with_resources(resources)
        cdx_validator = cdx_cls(cdx, registry=registry, format_checker=checker)
    except ImportError:
        store = {s["$id"]: s for s in referenced + [cdx]}
        resolver = jsonschema.RefResolver(base_uri=cdx["$id"], referrer=cdx, store=store)
        cdx_validator = cdx_cls(cdx, resolver=resolver, format_checker=checker)
    return spdx_validator, cdx_validator


def schema_errors(validator, doc):
    out = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append("%s: %s" % (where, e.message[:300]))
    return out


def spdx_rules(doc):
    """References between SPDX elements resolve; ids are unique."""
    errors = []
    graph = doc.get("@graph", [])
    ids = [n["spdxId"] for n in graph if isinstance(n, dict) and "spdxId" in n]
    blank = {n["@id"] for n in graph if isinstance(n, dict) and "@id" in n}
    if len(ids) != len(set(ids)):
        errors.append("spdxId values repeat")
    known = set(ids) | SPDX_INDIVIDUALS

    def check(ref, what):
        if ref not in known:
            errors.append("%s refers to %r, which is not in the document" % (what, ref))

    for n in graph:
        if not isinstance(n, dict):
            continue
        name = n.get("spdxId", n.get("@id", "?"))
        if "creationInfo" in n and n["creationInfo"] not in blank:
            errors.append("%s: creationInfo %r is not in the document" % (name, n["creationInfo"]))
        for key in ("from", "subject", "suppliedBy"):
            if key in n:
                check(n[key], "%s.%s" % (name, key))
        for key in ("to", "rootElement", "element", "createdBy"):
            for ref in n.get(key, []):
                check(ref, "%s.%s" % (name, key))
    documents = [n for n in graph if isinstance(n, dict) and n.get("type") == "SpdxDocument"]
    if len(documents) != 1:
        errors.append("expected one SpdxDocument, found %d" % len(documents))
    return errors


def cdx_rules(doc):
    """bom-ref values are unique across the whole BOM."""
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("bom-ref"), str):
                refs.append(node["bom-ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    dup = sorted({r for r in refs if refs.count(r) > 1})
    return ["bom-ref values repeat: %s" % ", ".join(dup)] if dup else []


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    schema_dir, doc_dir = argv[1], argv[2]
    spdx_validator, cdx_validator = make_validators(schema_dir)
    spdx_docs = sorted(glob.glob(os.path.join(doc_dir, "*.spdx.json")))
    cdx_docs = sorted(glob.glob(os.path.join(doc_dir, "*.cdx.json")))
    if not spdx_docs or not cdx_docs:
        print("FAILED: %s holds no *.spdx.json or no *.cdx.json documents" % doc_dir, file=sys.stderr)
        return 1
    failed = 0
    for path, validator, rules in ([(p, spdx_validator, spdx_rules) for p in spdx_docs] +
                                   [(p, cdx_validator, cdx_rules) for p in cdx_docs]):
        try:
            doc = load(path)
        except (ValueError, UnicodeDecodeError) as e:
            errors = ["not JSON: %s" % e]
        else:
            errors = schema_errors(validator, doc) + rules(doc)
        name = os.path.basename(path)
        if errors:
            failed += 1
            print("INVALID %s" % name)
            for e in errors[:20]:
                print("  " + e)
        else:
            print("ok      %s" % name)
    total = len(spdx_docs) + len(cdx_docs)
    print("%d of %d documents valid" % (total - failed, total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
