#!/usr/bin/env python3
"""Validates a FHIR R4 document Bundle written by chevet-letter.

Usage: validate_fhir.py BUNDLE.json

Parses the Bundle with the independent `fhir.resources` library (6.4.0 = FHIR R4 4.0.1, with
pydantic 1; installed by scripts/setup in its own virtualenv), which checks every resource
against the R4 models (types, cardinalities, required elements, value formats), then checks
what a document Bundle must be: type "document", an identifier, a timestamp, a Composition as
the first entry, unique fullUrls, and every reference resolving to an entry's fullUrl.
Exits non-zero with the problems on stderr.
"""

import json
import sys

import fhir.resources
from fhir.resources.bundle import Bundle


def references(node, path="$"):
    """Yields (path, reference) for every Reference.reference in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield path, value
            else:
                yield from references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from references(value, f"{path}[{i}]")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if fhir.resources.__fhir_version__ != "4.0.1":
        print(f"fhir.resources models FHIR {fhir.resources.__fhir_version__}, not R4 4.0.1", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        raw = json.load(f)

    problems = []
    try:
        bundle = Bundle.parse_obj(raw)
    except Exception as e:  # pydantic.ValidationError lists every failing element
        print(f"fhir.resources rejects the Bundle:\n{e}", file=sys.stderr)
        return 1

    if bundle.type != "document":
        problems.append(f"Bundle.type is {bundle.type!r}, not 'document'")
    if bundle.identifier is None or not bundle.identifier.value:
        problems.append("Bundle.identifier is missing")
    if bundle.timestamp is None:
        problems.append("Bundle.timestamp is missing")
    entries = raw.get("entry", [])
    if not entries or entries[0].get("resource", {}).get("resourceType") != "Composition":
        problems.append("the first entry is not a Composition")

    full_urls = [e.get("fullUrl") for e in entries]
    if any(u is None for u in full_urls):
        problems.append("an entry has no fullUrl")
    if len(set(full_urls)) != len(full_urls):
        problems.append("fullUrls are not unique")
    known = set(full_urls)
    for e in entries:
        r = e.get("resource", {})
        if "id" in r:
            known.add(f"{r['resourceType']}/{r['id']}")
    for path, ref in references(raw):
        if ref.startswith("#"):
            continue
        if ref not in known:
            problems.append(f"{path}: reference {ref!r} does not resolve inside the Bundle")

    composition = entries[0].get("resource", {}) if entries else {}
    for i, section in enumerate(composition.get("section", [])):
        div = section.get("text", {}).get("div", "")
        if not div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">'):
            problems.append(f"Composition.section[{i}].text.div is not an XHTML div")

    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"ok: {len(entries)} entries, FHIR {fhir.resources.__fhir_version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
