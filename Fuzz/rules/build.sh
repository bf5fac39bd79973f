#!/usr/bin/env bash
# Builds the libFuzzer target for rule-file regexes (Go RE2 syntax, translated to PCRE2 and compiled by PCRE2
# and Vectorscan), with seeds taken from the regexes of the built-in catalogue's style and the translator's
# edge cases.
#   Fuzz/rules/build.sh OUTDIR
#   OUTDIR/fuzz-rules -max_total_time=60 -max_len=512 OUTDIR/corpus-rules
# Only the dependency-free files of Sources/Secrets are compiled: no package build.
set -euo pipefail
out=${1:?usage: Fuzz/rules/build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources"
mkdir -p "$out/corpus-rules"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name RulesFuzz \
  -I "$src/CPCRE2" -I "$src/CVectorscan" \
  "$here/main.swift" "$src/Secrets/Config/GoRegex.swift" "$src/Secrets/SecretsError.swift" "$src/Secrets/Engine/PCRE2Regex.swift" \
  -o "$out/fuzz-rules" 2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: the shapes rule files use (named groups, (?i), classes, \Q…\E, octal and \x{…} escapes, (?U), bounded
# repetitions, alternations, lookarounds PCRE2 accepts but RE2 does not).
i=0
while IFS= read -r line; do
  printf '%s' "$line" > "$out/corpus-rules/seed-$i"
  i=$((i + 1))
done <<'SEEDS'
(?i)(?:api|secret)[_-]?key["']?\s*[:=]\s*["']?([a-z0-9]{32})\b
(?P<key>AKIA[A-Z2-7]{16})
ghp_[A-Za-z0-9]{36}
(?U)token=(.+)&
\Qa.b*c\E[\x{41}-\x{5a}]{2,}
\101\x7f\v\t[^\n\r]{1,64}
(?:xox[abpr]-[0-9]{10,13}-[a-zA-Z0-9-]*){1}
-----BEGIN[ A-Z]*PRIVATE KEY-----[\s\S]{64,4096}?-----END
[[:alpha:]][[:^digit:]]\pL
a{2}{3}|b{,3}|c{1,2}?
(?s:.)(?m:^$)(?-i:x)
SEEDS
echo "built $out/fuzz-rules; run: $out/fuzz-rules -max_total_time=60 -max_len=512 $out/corpus-rules"
