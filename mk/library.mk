# The library: shared (SONAME from the header's version macros, exports from src/avengers.map) and
# static, its pkg-config file, man page (3), install and uninstall (with ldconfig for a system
# LIBDIR outside DESTDIR: tools/ldconfig-after-install.sh). Sources are every .c under src/
# (one folder per layer); every header under src/ is a prerequisite of every object.

LIB_SRCS := $(sort $(shell find src -name '*.c'))
LIB_HDRS := $(sort $(shell find src -name '*.h')) $(HEADER)
LIB_OBJS := $(patsubst src/%.c,$(BUILDDIR)/obj/%.o,$(LIB_SRCS))
PIC_OBJS := $(patsubst src/%.c,$(BUILDDIR)/pic/%.o,$(LIB_SRCS))

lib: deps-check shared static
shared: $(SHLIB) $(LIBOUTDIR)/libavengers.so.$(MAJOR) $(LIBOUTDIR)/libavengers.so
static: $(STLIB)

$(BUILDDIR)/obj/%.o: src/%.c $(LIB_HDRS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AV_CFLAGS) -c $< -o $@

$(BUILDDIR)/pic/%.o: src/%.c $(LIB_HDRS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AV_CFLAGS) -fPIC -c $< -o $@

$(SHLIB): $(PIC_OBJS) src/avengers.map
	@mkdir -p $(LIBOUTDIR)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/avengers.map \
	  -Wl,--no-undefined -o $@ $(PIC_OBJS) $(LDFLAGS) $(LIB_LIBS)

$(LIBOUTDIR)/libavengers.so.$(MAJOR): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@
$(LIBOUTDIR)/libavengers.so: $(LIBOUTDIR)/libavengers.so.$(MAJOR)
	ln -sf $(notdir $<) $@

$(STLIB): $(LIB_OBJS)
	@mkdir -p $(LIBOUTDIR)
	rm -f $@
	$(AR) rcs $@ $^

# ---- install --------------------------------------------------------------------------------------
# The .pc is relocatable as zlib's and libzstd's are: libdir and includedir are written relative to
# ${prefix} when they lie inside PREFIX (the default), so `pkg-config --define-prefix` and a moved
# tree keep working; a LIBDIR or INCLUDEDIR elsewhere stays absolute.
pc_rel = $(if $(filter $(PREFIX)/%,$(1)),$${prefix}/$(patsubst $(PREFIX)/%,%,$(1)),$(1))
# Phony: regenerated on every install, since it embeds PREFIX/LIBDIR (which the file's date cannot
# tell); otherwise `make install PREFIX=/a` after `make install` installs a .pc pointing elsewhere.
.PHONY: build/avengers.pc
build/avengers.pc: pkgconfig/avengers.pc.in $(HEADER)
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@REQUIRES_PRIVATE@|$(DEPS_PKGS)|g' $< > $@

install: all build/avengers.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/avengers $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(MANDIR)/man3
	install -m 644 include/avengers/*.h* $(DESTDIR)$(INCLUDEDIR)/avengers/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/libavengers.so.$(MAJOR)
	ln -sf libavengers.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libavengers.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 build/avengers.pc $(DESTDIR)$(PKGCONFIGDIR)/avengers.pc
	install -m 644 docs/man/libavengers.3 $(DESTDIR)$(MANDIR)/man3/libavengers.3
	@$(MAKE) --no-print-directory install-extra
	@LDCONFIG="$(LDCONFIG)" tools/ldconfig-after-install.sh "$(LIBDIR)" "$(DESTDIR)"

uninstall: uninstall-extra
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/avengers/,$(notdir $(wildcard include/avengers/*.h*)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/avengers 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/libavengers.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libavengers.so $(DESTDIR)$(LIBDIR)/libavengers.a \
	      $(DESTDIR)$(PKGCONFIGDIR)/avengers.pc $(DESTDIR)$(MANDIR)/man3/libavengers.3
