# Stowaway: `make demo` scans a bundled demo image; `make test` runs every test.
# Every target installs what it needs (make deps) on a fresh Debian machine.

SHELL := /bin/bash
SWIFT ?= swift
OUT := testdata/out
CACHE := testdata/cache
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release

# Debian packages: what building (and running) stowaway needs, and what only the tests, fixtures and benchmarks
# need (registries, PostgreSQL, a browser, image tools). `make install` installs the first list only.
BUILD_PACKAGES := libarchive-dev liblzma-dev libvectorscan-dev libpcre2-dev zlib1g-dev libzstd-dev libisal-dev \
                  libsqlite3-dev pkg-config
TEST_PACKAGES := isal zstd xz-utils bzip2 python3 skopeo umoci docker-registry apache2-utils curl bc \
                 debootstrap time openssl openssh-client postgresql chromium chromium-driver python3-venv
# PyPI packages of the sweep page's browser and Prometheus checks (testdata/sweep-page/check.py), the SARIF schema
# check (testdata/sarif/check.py) and the CI recipes' check (testdata/ci-recipes/check.py), in $(VENV).
VENV := .build/venv
PIP_PACKAGES := selenium prometheus_client pyyaml jsonschema

.PHONY: all deps deps-build build release install uninstall man demo test fixtures fuzz bench clean

all: build

# Installs the Debian packages of $(1) that are missing (with sudo unless root).
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps-build:
	$(call apt_install,$(BUILD_PACKAGES))

deps: deps-build
	$(call apt_install,$(TEST_PACKAGES))
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c 'import selenium, prometheus_client, yaml, jsonschema' 2>/dev/null || $(VENV)/bin/pip install -q $(PIP_PACKAGES)

build: deps
	$(SWIFT) build

release: deps-build
	$(SWIFT) build -c release

# `make install PREFIX=/usr/local` (and DESTDIR for packaging): the binary, its man page and bash/zsh/fish
# completions, the last two generated from the command's own definition. Only the build's Debian packages are
# installed (deps-build), never the tests'. `make uninstall` (same PREFIX) removes exactly those files, and the
# directories they leave empty. `make man` writes the man page to $(MAN_OUT) without installing anything.
PREFIX ?= /usr/local
# The build installed: release (default) or debug, which the tests use to install the build they already made.
INSTALL_CONFIG ?= release
INSTALL_BIN = .build/$(INSTALL_CONFIG)/stowaway
MANDIR := .build/plugins/GenerateManual
MAN_OUT := .build/man/stowaway.1
INSTALLED := bin/stowaway share/man/man1/stowaway.1 share/bash-completion/completions/stowaway \
             share/zsh/site-functions/_stowaway share/fish/vendor_completions.d/stowaway.fish

man: deps-build
	@rm -rf $(MANDIR)/outputs
	@$(SWIFT) package generate-manual >/dev/null
	@mkdir -p $(dir $(MAN_OUT)) && cp "$$(find $(MANDIR) -name 'stowaway.1' | head -n 1)" $(MAN_OUT)
	@echo "$(MAN_OUT)"

install: deps-build man
	$(SWIFT) build -c $(INSTALL_CONFIG) --product stowaway
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/stowaway
	install -m 0644 $(MAN_OUT) $(DESTDIR)$(PREFIX)/share/man/man1/stowaway.1
	$(INSTALL_BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/stowaway
	$(INSTALL_BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_stowaway
	$(INSTALL_BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/stowaway.fish
	@echo "installed stowaway, its man page and completions under $(DESTDIR)$(PREFIX)"

uninstall:
	@for f in $(INSTALLED); do rm -f "$(DESTDIR)$(PREFIX)/$$f"; \
	  d=$$(dirname "$(DESTDIR)$(PREFIX)/$$f"); \
	  while [ "$$d" != "$(DESTDIR)$(PREFIX)" ] && [ "$$d" != / ] && rmdir "$$d" 2>/dev/null; do d=$$(dirname "$$d"); done; \
	done
	@echo "removed stowaway from $(DESTDIR)$(PREFIX)"

# The demo image: fresh fake secrets in a file of a middle layer (deleted by the next layer),
# in ENV, in a label and in a build argument. Exit code 1 (findings) is the expected outcome.
demo: build
	@mkdir -p $(OUT)
	@python3 testdata/demo-spec.py docker25 > $(OUT)/demo.json
	@$(DEBUG_BIN)/stowaway-fixture $(OUT)/demo.json $(OUT)/demo.tar >/dev/null
	@echo "$$ stowaway scan $(OUT)/demo.tar"
	@$(DEBUG_BIN)/stowaway scan $(OUT)/demo.tar; rc=$$?; echo "(exit code $$rc)"; [ $$rc -eq 1 ]

# Fixtures the tests read (built once, cached outside git): a clean Debian base image from debootstrap, with
# python3 and its test suite, and with Python libraries, Node.js, a JDK, Go and Ruby (clean-image tests).
fixtures: build
	@testdata/debian-base.sh $(CACHE) $(DEBUG_BIN)/stowaway-fixture
	@testdata/debian-python.sh $(CACHE) $(DEBUG_BIN)/stowaway-fixture
	@testdata/debian-langs.sh $(CACHE) $(DEBUG_BIN)/stowaway-fixture

# The registries the integration tests talk to, and a PostgreSQL server for the sweep's shared store, run on
# 127.0.0.1 for the length of the test run (harness.json names them all).
REGISTRY_DIR := $(CURDIR)/$(OUT)/registry
HARNESS := python3 testdata/registry/harness.py

# Every temporary file a test makes goes under $(TEST_TMP), removed when the run ends, whatever it left. After the
# Swift tests: the CI recipes of docs/ci.md run against the registries, and `make install`/`uninstall` are checked.
TEST_TMP := $(CURDIR)/$(OUT)/tmp
test: build fixtures
	@$(HARNESS) start --workdir $(REGISTRY_DIR) >/dev/null
	@rm -rf $(TEST_TMP) && mkdir -p $(TEST_TMP)
	@export TMPDIR=$(TEST_TMP); rc=0; \
	  STOWAWAY_CACHE_DIR=$(CURDIR)/$(OUT)/rules-cache STOWAWAY_FIXTURES=$(CURDIR)/$(CACHE) STOWAWAY_REGISTRY=$(REGISTRY_DIR)/harness.json $(SWIFT) test || rc=1; \
	  $(VENV)/bin/python testdata/ci-recipes/check.py --harness $(REGISTRY_DIR)/harness.json --bin $(DEBUG_BIN) || rc=1; \
	  testdata/install-check.sh || rc=1; \
	  $(HARNESS) stop --workdir $(REGISTRY_DIR) >/dev/null; rm -rf $(TEST_TMP); exit $$rc
	@$(MAKE) --no-print-directory fuzz

# libFuzzer targets for the parsers of untrusted bytes: the outer-tar indexer, the manifest, index and config
# JSON through the image loader (seeded by testdata/attacks/craft.py and small images), and every
# Fuzz/NAME/build.sh (the msgpack reader, rule-file regexes). Each runs FUZZ_SECONDS; a crash, a hang or a sanitizer report
# fails (the input is kept under $(OUT)/fuzz).
FUZZ_SECONDS ?= 30
fuzz: build
	@Fuzz/run.sh $(FUZZ_SECONDS) $(OUT)/fuzz $(DEBUG_BIN)/stowaway-fixture

# STOWAWAY_BENCH_SMALL=1 make bench: the same measurements on /usr/include alone, one run each.
# make bench BASE=REV also builds commit REV (once, in .build/bench-base) and measures its full scan and sweeps
# beside this build's, run by run alternately, with the ratio of the two.
bench: deps release
	@base=""; [ -z "$(BASE)" ] || base=$$(testdata/bench-base.sh "$(BASE)"); \
	  STOWAWAY_BENCH_BASE="$$base" testdata/bench.sh $(CACHE) $(RELEASE_BIN) && \
	  STOWAWAY_BENCH_BASE="$$base" testdata/bench-sweep.sh $(CACHE) $(RELEASE_BIN)

clean:
	rm -rf .build $(OUT)

# `make print-VAR` prints a variable (the install check reads TEST_PACKAGES).
print-%:
	@echo $($*)
