#!/usr/bin/env bash
# `make install` and `make uninstall` as a user runs them (make test runs this after swift test):
#   - install asks apt for the build's Debian packages only, never a test-only one (apt-get, dpkg-query and sudo
#     are replaced by stand-ins that log the request and report every package missing, so the full list shows);
#   - it installs exactly the binary, the man page and three completion scripts, and the binary runs;
#   - uninstall leaves the prefix empty.
# It installs the debug build this test run made (INSTALL_CONFIG=debug), so no release build is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED install: $*" >&2; exit 1; }
trap 'echo "FAILED install: the check stopped at line $LINENO" >&2' ERR

mkdir -p "$work/stubs" "$work/prefix"
printf '#!/bin/sh\nexit 1\n' > "$work/stubs/dpkg-query"
printf '#!/bin/sh\necho "$*" >> "%s/apt.log"\n' "$work" > "$work/stubs/apt-get"
printf '#!/bin/sh\nexec "$@"\n' > "$work/stubs/sudo"
chmod +x "$work/stubs/"*
PATH="$work/stubs:$PATH" make --no-print-directory install INSTALL_CONFIG=debug PREFIX="$work/prefix" > "$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "make install failed"; }

asked=$(grep '^install ' "$work/apt.log" | tr ' ' '\n' | grep -v '^-' | grep -v '^install$' | sort -u)
[ -n "$asked" ] || fail "make install asked apt for nothing (expected the build's packages)"
test_only=$(make --no-print-directory -s print-TEST_PACKAGES)
for p in $test_only; do
  if grep -qx "$p" <<< "$asked"; then fail "make install asked apt for the test-only package $p"; fi
done
grep -qx libvectorscan-dev <<< "$asked" || fail "make install did not ask for the build package libvectorscan-dev"
echo "ok     make install asks apt only for build packages: $(echo $asked)"

expected="bin/stowaway
share/bash-completion/completions/stowaway
share/fish/vendor_completions.d/stowaway.fish
share/man/man1/stowaway.1
share/zsh/site-functions/_stowaway"
installed=$(cd "$work/prefix" && find . -type f | sed 's|^\./||' | sort)
[ "$installed" = "$expected" ] || fail "installed files differ: $installed"
"$work/prefix/bin/stowaway" --version > /dev/null || fail "the installed binary does not run"
head -c 200 "$work/prefix/share/man/man1/stowaway.1" | grep -q '^\.Dd\|^\.TH' || fail "the man page is not one"
grep -q 'sweep' "$work/prefix/share/man/man1/stowaway.1" || fail "the man page does not document the subcommands"
echo "ok     make install installs the binary, the man page and bash/zsh/fish completions, and nothing else"

make --no-print-directory uninstall PREFIX="$work/prefix" > /dev/null
[ -z "$(ls -A "$work/prefix")" ] || fail "make uninstall left: $(cd "$work/prefix" && find .)"
echo "ok     make uninstall leaves the prefix empty"
