# Makefile - builds labcd, labc and the tests.
#   make               normal build in build/
#   make SAN=1         ASan + UBSan build in build/san/
#   make check         the whole test suite (see README.md)
#   make WERROR=1      warnings are errors (CI)
#   make install       labcd, labc, manual pages, completion, unit, config
#                      (PREFIX=/usr/local, DESTDIR, BINDIR, SBINDIR, MANDIR,
#                      SYSCONFDIR, UNITDIR, COMPDIR); make uninstall
#   make fuzz          libFuzzer targets in build/fuzz/ (clang; tests/fuzz)
#   make fuzz-long     run each longer, FUZZ_SECONDS each (scripts/fuzz-long.sh)

CC	?= cc
PKGS	:= libcurl jansson libsodium sqlite3 libedit libcrypto zlib \
	   libmicrohttpd gnutls
SAN	?= 0
WERROR	?= 0

# The one version: src/common/version.h (debian/changelog repeats it; a
# test checks that they agree).
VERSION	:= $(shell sed -n 's/^\#define LABC_VERSION "\(.*\)"$$/\1/p' \
	   src/common/version.h)

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/labcontainers
COMPDIR	?= $(PREFIX)/share/bash-completion/completions
# systemd reads /usr/local/lib/systemd/system as well as /lib/systemd/system.
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL	?= install

ifeq ($(SAN),1)
B	:= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer
OPT	:= -O1
else
B	:= build
SANFLAGS :=
OPT	:= -O2
endif

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

CFLAGS	+= -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SANFLAGS) \
	   $(shell pkg-config --cflags $(PKGS))

# The walls between the layers, kept by the compiler: each part sees only
# the headers of the parts below it. src/common sees nothing above it;
# src/lxd sees common; labcd sees lxd and common; labc sees common only,
# never a daemon header. Tests and fuzzers see everything.
FB	:= build/fuzz
INC_common := -Isrc/common
INC_lxd	:= $(INC_common) -Isrc/lxd
INC_labcd := $(INC_lxd) -Isrc/labcd
INC_labc := $(INC_common) -Isrc/labc
INC_web	:= $(INC_common) -Isrc/web
INC_tests := $(INC_labcd) -Itests
LDFLAGS	+= $(SANFLAGS)
LDLIBS	+= $(shell pkg-config --libs $(PKGS)) -lpthread

COMMON	:= src/common/xmalloc.c src/common/buf.c src/common/log.c \
	   src/common/sshkey.c src/common/proto.c src/common/argv.c \
	   src/common/inert.c src/common/atomicio.c src/common/relay.c \
	   src/common/clock.c
LXD	:= src/lxd/lxd.c src/lxd/lxd-instance.c src/lxd/lxd-files.c \
	   src/lxd/lxd-image.c src/lxd/lxd-project.c \
	   src/lxd/lxd-events.c src/lxd/lxd-backup.c src/lxd/lxd-cluster.c
LABCD	:= $(wildcard src/labcd/*.c)
# The guides, built into labcd as C strings ('labc guide'): no file to find
# at run time. Shared by every build; written whole, then renamed.
GUIDES	:= build/gen/guides.c
LABC	:= $(wildcard src/labc/*.c)
# labc-web: the status page (libmicrohttpd), built into it as a C string.
WEB	:= $(wildcard src/web/*.c)
PAGE	:= build/gen/page.c
WEBPKGS	:= libmicrohttpd jansson
UNIT	:= $(patsubst %.c,%,$(wildcard tests/unit/t-*.c))
INTEG	:= $(patsubst %.c,%,$(wildcard tests/integ/t-*.c))
TOOLS	:= $(patsubst %.c,%,$(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

PROGS	:= $(B)/labcd $(B)/labc $(B)/labc-web
TESTS	:= $(patsubst %,$(B)/%,$(UNIT) $(INTEG) $(TOOLS))
STUBS	:= $(B)/tests/nvml-stub/libnvidia-ml.so.1 \
	   $(B)/tests/nvml-stub/old/libnvidia-ml.so.1

all: $(PROGS) $(TESTS) $(STUBS)

# Only the two programs (what a package needs).
programs: $(PROGS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -MMD -MP -c -o $@ $<

# Each object sees the include path of its part only (INC_* above).
$(B)/obj/src/common/%.o $(FB)/obj/src/common/%.o: INC := $(INC_common)
$(B)/obj/src/lxd/%.o $(FB)/obj/src/lxd/%.o: INC := $(INC_lxd)
$(B)/obj/src/labcd/%.o $(FB)/obj/src/labcd/%.o: INC := $(INC_labcd)
$(B)/obj/src/labc/%.o $(FB)/obj/src/labc/%.o: INC := $(INC_labc)
$(B)/obj/src/web/%.o: INC := $(INC_web) \
	$(shell pkg-config --cflags libmicrohttpd)
$(B)/obj/tests/%.o $(FB)/obj/tests/%.o: INC := $(INC_tests)

# Archives are remade whole when the list of sources changes.
$(B)/libcommon.a: $(call obj,$(COMMON)) Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(B)/liblxd.a: $(call obj,$(LXD)) Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(GUIDES): docs/member.md docs/admin.md Makefile
	@mkdir -p $(dir $@)
	{ for g in member admin; do \
	    echo "const char guide_$$g[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	        -e 's/^/"/' -e 's/$$/\\n"/' docs/$$g.md; \
	    echo ";"; done; } > $@.tmp.$$$$ && mv $@.tmp.$$$$ $@

$(B)/labcd: $(call obj,$(LABCD) $(GUIDES)) $(B)/liblxd.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/labc: $(call obj,$(LABC)) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(PAGE): src/web/page.html Makefile
	@mkdir -p $(dir $@)
	{ echo "const char web_page[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	        -e 's/^/"/' -e 's/$$/\\n"/' src/web/page.html; \
	    echo ";"; } > $@.tmp.$$$$ && mv $@.tmp.$$$$ $@

$(B)/labc-web: $(call obj,$(WEB) $(PAGE)) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(WEBPKGS)) \
	    -lpthread

# Objects before archives: a test may add objects of its own (t-nvml).
$(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/test.o $(B)/liblxd.a \
    $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# The stand-in NVML that tests dlopen, and its old-driver variant. Never
# sanitized: plain and sanitized programs alike load it.
STUBFLAGS = $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -shared \
	    -Wl,-soname,libnvidia-ml.so.1

$(B)/tests/nvml-stub/libnvidia-ml.so.1: tests/nvml-stub/nvml-stub.c
	@mkdir -p $(dir $@)
	$(CC) $(STUBFLAGS) -o $@ $<

$(B)/tests/nvml-stub/old/libnvidia-ml.so.1: tests/nvml-stub/nvml-stub.c
	@mkdir -p $(dir $@)
	$(CC) $(STUBFLAGS) -DNVML_STUB_OLD -o $@ $<

$(B)/tests/unit/t-nvml: $(call obj,src/labcd/nvml.c) | $(STUBS)
$(B)/tests/unit/t-throttle: $(call obj,src/labcd/throttle.c)
$(B)/tests/unit/t-sshwait: $(call obj,src/labcd/sshwait.c)
$(B)/tests/unit/t-duration: $(call obj,src/labcd/config.c)
$(B)/tests/unit/t-config-lxd: $(call obj,src/labcd/config.c)
$(B)/tests/unit/t-db-store: $(call obj,src/labcd/db.c src/labcd/db-users.c \
    src/labcd/db-sessions.c src/labcd/db-keys.c src/labcd/db-audit.c \
    src/labcd/db-gpus.c)
$(B)/tests/unit/t-view: $(call obj,src/labcd/view.c src/labcd/cluster.c src/labcd/leases.c \
    src/labcd/config.c src/labcd/op.c src/labcd/audit.c src/labcd/db.c \
    src/labcd/db-audit.c src/labcd/db-users.c src/labcd/db-keys.c \
    src/labcd/claim.c src/labcd/keys.c)
$(B)/tests/unit/t-op: $(call obj,src/labcd/op.c src/labcd/audit.c \
    src/labcd/db.c src/labcd/db-audit.c src/labcd/db-users.c \
    src/labcd/db-keys.c src/labcd/claim.c src/labcd/keys.c)

# libFuzzer targets (tests/fuzz/README.md): clang, ASan + UBSan, every
# source compiled again with coverage. Not part of 'all': tests/run builds
# them. Archives let each target pull in only what it calls.
FUZZCC	?= clang
FUZZSAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	   -fno-omit-frame-pointer
FUZZCFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) $(FUZZSAN) \
	   -fsanitize=fuzzer-no-link $(shell pkg-config --cflags $(PKGS))
FUZZ	:= $(patsubst tests/fuzz/%.c,$(FB)/%,$(wildcard tests/fuzz/fuzz-*.c))
fobj = $(patsubst %.c,$(FB)/obj/%.o,$(1))

fuzz: $(FUZZ)

$(FB)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZCFLAGS) $(INC) -MMD -MP -c -o $@ $<

# labcd without its main(), for the command table.
$(FB)/liblabcd.a: $(call fobj,$(filter-out src/labcd/labcd.c,$(LABCD)) $(GUIDES)) \
    Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(FB)/liblxd.a: $(call fobj,$(LXD)) Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(FB)/libcommon.a: $(call fobj,$(COMMON)) Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(FB)/fuzz-%: $(FB)/obj/tests/fuzz/fuzz-%.o $(FB)/liblabcd.a $(FB)/liblxd.a \
    $(FB)/libcommon.a
	$(FUZZCC) $(FUZZSAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# fuzz-cmd reads GPU lists against the stand-in NVML.
$(FB)/fuzz-cmd: | $(STUBS)

FUZZ_SECONDS ?= 180
fuzz-long: fuzz
	scripts/fuzz-long.sh $(FUZZ_SECONDS)

check:
	tests/run

# The configuration is the admin's: installed only where there is none.
# The unit's ExecStart names labcd where it is installed.
install: $(PROGS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/labcontainers
	$(INSTALL) -m 0755 $(B)/labc $(DESTDIR)$(BINDIR)/labc
	$(INSTALL) -m 0755 $(B)/labcd $(DESTDIR)$(SBINDIR)/labcd
	$(INSTALL) -m 0755 $(B)/labc-web $(DESTDIR)$(SBINDIR)/labc-web
	$(INSTALL) -m 0644 man/labc.1 $(DESTDIR)$(MANDIR)/man1/labc.1
	$(INSTALL) -m 0644 man/labcd.conf.5 $(DESTDIR)$(MANDIR)/man5/labcd.conf.5
	$(INSTALL) -m 0644 man/labcd.8 $(DESTDIR)$(MANDIR)/man8/labcd.8
	$(INSTALL) -m 0644 man/labc-web.8 $(DESTDIR)$(MANDIR)/man8/labc-web.8
	$(INSTALL) -m 0644 etc/bash-completion/labc $(DESTDIR)$(COMPDIR)/labc
	sed -e 's|/usr/sbin/labcd|$(SBINDIR)/labcd|' \
	    -e 's|/usr/share/doc/labcontainers|$(DOCDIR)|' etc/labcd.service \
	    > $(DESTDIR)$(UNITDIR)/labcd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/labcd.service
	sed -e 's|/usr/sbin/labcd|$(SBINDIR)/labcd|' \
	    -e 's|/usr/share/doc/labcontainers|$(DOCDIR)|' etc/labcd-node.service \
	    > $(DESTDIR)$(UNITDIR)/labcd-node.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/labcd-node.service
	sed -e 's|/usr/sbin/labc-web|$(SBINDIR)/labc-web|' \
	    -e 's|/usr/share/doc/labcontainers|$(DOCDIR)|' etc/labc-web.service \
	    > $(DESTDIR)$(UNITDIR)/labc-web.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/labc-web.service
	$(INSTALL) -m 0644 README.md PROTOCOL.md docs/admin.md docs/member.md \
	    docs/dev.md docs/status-api.md etc/grafana-labcontainers.json \
	    $(DESTDIR)$(DOCDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/labcontainers/labcd.conf || \
	    $(INSTALL) -m 0644 etc/labcd.conf \
	    $(DESTDIR)$(SYSCONFDIR)/labcontainers/labcd.conf

# Leaves the configuration (it may hold the admin's changes) and the
# database in /var/lib/labcontainers.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/labc $(DESTDIR)$(SBINDIR)/labcd \
	    $(DESTDIR)$(SBINDIR)/labc-web $(DESTDIR)$(MANDIR)/man8/labc-web.8 \
	    $(DESTDIR)$(UNITDIR)/labc-web.service \
	    $(DESTDIR)$(DOCDIR)/status-api.md \
	    $(DESTDIR)$(DOCDIR)/grafana-labcontainers.json \
	    $(DESTDIR)$(MANDIR)/man1/labc.1 \
	    $(DESTDIR)$(MANDIR)/man5/labcd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/labcd.8 $(DESTDIR)$(COMPDIR)/labc \
	    $(DESTDIR)$(UNITDIR)/labcd.service \
	    $(DESTDIR)$(UNITDIR)/labcd-node.service \
	    $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/PROTOCOL.md \
	    $(DESTDIR)$(DOCDIR)/admin.md $(DESTDIR)$(DOCDIR)/member.md \
	    $(DESTDIR)$(DOCDIR)/dev.md
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

version:
	@echo $(VERSION)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

.PHONY: all programs check clean install uninstall version fuzz fuzz-long
.SECONDARY:
