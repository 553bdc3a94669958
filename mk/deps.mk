# Dependencies: OpenBLAS and zlib for the library, cJSON for the `avengers` command (all found
# through pkg-config), numpy and pytest for the test suites. Nothing is installed while the
# Makefile is read: the targets that need them depend on a check step that, when something is
# missing, installs the Debian packages (tools/install-deps.sh) if make runs as root, saying so
# first, and otherwise prints the apt-get command and fails.

# Without OpenBLAS (`make NO_BLAS=1`, see the Makefile) the library needs zlib alone.
DEPS_PKGS  := $(if $(filter 1 yes,$(NO_BLAS)),zlib,openblas zlib)
CJSON_PKGS := libcjson

# pkg-config is asked on first use, in a recipe that runs after the check (the packages may be
# installed by then), and the answer kept for the rest of the run.
DEP_CFLAGS   = $(eval DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_PKGS) 2>/dev/null))$(DEP_CFLAGS)
DEP_LIBS     = $(eval DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(DEPS_PKGS) 2>/dev/null))$(DEP_LIBS)
CJSON_CFLAGS = $(eval CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(CJSON_PKGS) 2>/dev/null))$(CJSON_CFLAGS)
CJSON_LIBS   = $(eval CJSON_LIBS := $(shell $(PKG_CONFIG) --libs $(CJSON_PKGS) 2>/dev/null))$(CJSON_LIBS)

# $(call ensure_deps,shell test,what it looks for): when the test fails, install the missing Debian
# packages as root (with a message first), else name them with the apt-get command and fail.
ensure_deps = if ! { $(1); } >/dev/null 2>&1; then \
  echo "libavengers: missing $(2)."; \
  if [ "$$(id -u)" -eq 0 ]; then \
    echo "libavengers: running as root, so installing the missing Debian packages now (tools/install-deps.sh)"; \
    ./tools/install-deps.sh || exit 1; \
    if ! { $(1); } >/dev/null 2>&1; then echo "libavengers: still missing $(2)"; exit 1; fi; \
  else \
    ./tools/install-deps.sh --dry-run; \
    echo "or, as root:  make deps   (installs every build and test dependency)"; exit 1; \
  fi; fi

# Serialised (each step after the previous), so that at most one of them runs apt-get.
.PHONY: deps deps-check cli-deps-check test-deps-check
deps-check:
	@$(call ensure_deps,$(PKG_CONFIG) --exists $(DEPS_PKGS),development files for pkg-config $(DEPS_PKGS))
cli-deps-check: deps-check
	@$(call ensure_deps,$(PKG_CONFIG) --exists $(CJSON_PKGS),cJSON development files for the avengers command (pkg-config $(CJSON_PKGS)))
test-deps-check: cli-deps-check
	@$(call ensure_deps,$(PYTHON) -c 'import numpy; import pytest',numpy and pytest for $(PYTHON))

# Install every build, test and demo dependency from Debian packages (needs root).
deps:
	./tools/install-deps.sh
