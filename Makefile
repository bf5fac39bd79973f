# Stowaway: `make demo` scans a bundled demo image; `make test` runs every test.
# Every target installs what it needs (make deps) on a fresh Debian machine.

SHELL := /bin/bash
SWIFT ?= swift
OUT := testdata/out
CACHE := testdata/cache
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release

# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := libarchive-dev libvectorscan-dev libpcre2-dev zlib1g-dev libzstd-dev libisal-dev isal pkg-config \
                python3 skopeo umoci docker-registry apache2-utils curl bc debootstrap time openssl openssh-client

.PHONY: all deps build release demo test fixtures bench clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The demo image: fresh fake secrets in a file of a middle layer (deleted by the next layer),
# in ENV, in a label and in a build argument. Exit code 1 (findings) is the expected outcome.
demo: build
	@mkdir -p $(OUT)
	@python3 testdata/demo-spec.py docker25 > $(OUT)/demo.json
	@$(DEBUG_BIN)/stowaway-fixture $(OUT)/demo.json $(OUT)/demo.tar >/dev/null
	@echo "$$ stowaway scan $(OUT)/demo.tar"
	@$(DEBUG_BIN)/stowaway scan $(OUT)/demo.tar; rc=$$?; echo "(exit code $$rc)"; [ $$rc -eq 1 ]

# Fixtures the tests read (built once, cached outside git): a clean Debian base image from debootstrap.
fixtures: build
	@testdata/debian-base.sh $(CACHE) $(DEBUG_BIN)/stowaway-fixture
	@testdata/debian-python.sh $(CACHE) $(DEBUG_BIN)/stowaway-fixture

# The registries the integration tests talk to run on 127.0.0.1 for the length of the test run.
REGISTRY_DIR := $(CURDIR)/$(OUT)/registry
HARNESS := python3 testdata/registry/harness.py

test: build fixtures
	@$(HARNESS) start --workdir $(REGISTRY_DIR) >/dev/null
	@STOWAWAY_CACHE_DIR=$(CURDIR)/$(OUT)/rules-cache STOWAWAY_FIXTURES=$(CURDIR)/$(CACHE) STOWAWAY_REGISTRY=$(REGISTRY_DIR)/harness.json $(SWIFT) test; \
	  rc=$$?; $(HARNESS) stop --workdir $(REGISTRY_DIR) >/dev/null; exit $$rc

# STOWAWAY_BENCH_SMALL=1 make bench: the same measurements on /usr/include alone, one run each.
bench: release
	@testdata/bench.sh $(CACHE) $(RELEASE_BIN)

clean:
	rm -rf .build $(OUT)
