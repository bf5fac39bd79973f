#!/usr/bin/env python3
"""Checks a SARIF log the way GitHub code scanning needs it: valid against the official SARIF 2.1.0 JSON schema
(sarif-schema-2.1.0.json beside this script), and every artifactLocation.uri an RFC 3986 URI reference.

Usage: check.py LOG.sarif. Exit 0 when it passes; 1 with one line per problem on stderr.
"""
import json
import os
import re
import sys

import jsonschema

# RFC 3986 section 4.1: URI-reference = URI / relative-ref, written out from the ABNF (appendix A); ASCII only.
PCT = r"%[0-9A-Fa-f]{2}"
UNRESERVED = r"A-Za-z0-9\-._~"
SUB_DELIMS = r"!$&'()*+,;="
PCHAR = rf"(?:[{UNRESERVED}{SUB_DELIMS}:@]|{PCT})"
SEGMENT = rf"{PCHAR}*"
SEGMENT_NZ = rf"{PCHAR}+"
SEGMENT_NZ_NC = rf"(?:[{UNRESERVED}{SUB_DELIMS}@]|{PCT})+"
PATH_ABEMPTY = rf"(?:/{SEGMENT})*"
PATH_ABSOLUTE = rf"/(?:{SEGMENT_NZ}(?:/{SEGMENT})*)?"
PATH_NOSCHEME = rf"{SEGMENT_NZ_NC}(?:/{SEGMENT})*"
PATH_ROOTLESS = rf"{SEGMENT_NZ}(?:/{SEGMENT})*"
DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"{DEC_OCTET}\.{DEC_OCTET}\.{DEC_OCTET}\.{DEC_OCTET}"
IP_LITERAL = rf"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[{UNRESERVED}{SUB_DELIMS}:]+)\]"
REG_NAME = rf"(?:[{UNRESERVED}{SUB_DELIMS}]|{PCT})*"
USERINFO = rf"(?:[{UNRESERVED}{SUB_DELIMS}:]|{PCT})*"
AUTHORITY = rf"(?:{USERINFO}@)?(?:{IP_LITERAL}|{IPV4}|{REG_NAME})(?::[0-9]*)?"
QUERY = rf"(?:{PCHAR}|[/?])*"
SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
HIER_PART = rf"(?://{AUTHORITY}{PATH_ABEMPTY}|{PATH_ABSOLUTE}|{PATH_ROOTLESS}|)"
RELATIVE_PART = rf"(?://{AUTHORITY}{PATH_ABEMPTY}|{PATH_ABSOLUTE}|{PATH_NOSCHEME}|)"
URI = rf"{SCHEME}:{HIER_PART}(?:\?{QUERY})?(?:#{QUERY})?"
RELATIVE_REF = rf"{RELATIVE_PART}(?:\?{QUERY})?(?:#{QUERY})?"
URI_REFERENCE = re.compile(rf"(?:{URI}|{RELATIVE_REF})", re.ASCII)


def is_uri_reference(text):
    return isinstance(text, str) and URI_REFERENCE.fullmatch(text) is not None


def artifact_uris(value, where="$"):
    """Every (JSON path, uri) of an artifactLocation object anywhere in the log, uriBaseIds included."""
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{where}.{key}"
            if key in ("artifactLocation", "originalUriBaseIds", "uriBaseIds") and isinstance(child, dict):
                locations = child.values() if key != "artifactLocation" else [child]
                for location in locations:
                    if isinstance(location, dict) and "uri" in location:
                        yield path, location["uri"]
            yield from artifact_uris(child, path)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from artifact_uris(child, f"{where}[{i}]")


def main():
    if len(sys.argv) != 2:
        print("usage: check.py LOG.sarif", file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "sarif-schema-2.1.0.json"), encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[1], encoding="utf-8") as f:
        log = json.load(f)
    problems = []
    validator = jsonschema.Draft4Validator(schema)
    for error in sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path)):
        location = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"schema: at /{location}: {error.message}")
    for path, uri in artifact_uris(log):
        if not is_uri_reference(uri):
            problems.append(f"uri: {path}: {uri!r} is not an RFC 3986 URI reference")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
