# Hardening (issue 5): hostile-file, concurrency and crash-save unit tests, fuzz targets and their
# corpus replayer, sanitizer and valgrind runs, the ABI gate. docs/SECURITY.md, docs/ABI.md.

# The hostile-file test counts every allocation of the loader through link-time wrappers.
AV_WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,--wrap=free
$(BUILDDIR)/tests/test_format: TEST_CFLAGS += $(AV_WRAP_ALLOC)
$(BUILDDIR)/tests/test_format $(BUILDDIR)/tests/test_threads $(BUILDDIR)/tests/test_crashsave: \
  tests/fuzz/small_router.h tests/testdata.h
