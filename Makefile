# Makefile - builds labcd, labc and the tests.
#   make               normal build in build/
#   make SAN=1         ASan + UBSan build in build/san/
#   make check         the whole test suite (see README.md)
#   make WERROR=1      warnings are errors (CI)

CC	?= cc
PKGS	:= libcurl jansson libsodium sqlite3 libedit
SAN	?= 0
WERROR	?= 0

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
	   -Isrc/common -Isrc/lxd -Isrc/labcd -Itests $(shell pkg-config --cflags $(PKGS))
LDFLAGS	+= $(SANFLAGS)
LDLIBS	+= $(shell pkg-config --libs $(PKGS)) -lpthread

COMMON	:= src/common/xmalloc.c src/common/buf.c src/common/log.c \
	   src/common/sshkey.c src/common/proto.c src/common/argv.c
LXD	:= src/lxd/lxd.c src/lxd/lxd-instance.c src/lxd/lxd-files.c \
	   src/lxd/lxd-image.c src/lxd/lxd-project.c
LABCD	:= $(wildcard src/labcd/*.c)
LABC	:= $(wildcard src/labc/*.c)
UNIT	:= $(patsubst %.c,%,$(wildcard tests/unit/t-*.c))
INTEG	:= $(patsubst %.c,%,$(wildcard tests/integ/t-*.c))
TOOLS	:= $(patsubst %.c,%,$(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

PROGS	:= $(B)/labcd $(B)/labc
TESTS	:= $(patsubst %,$(B)/%,$(UNIT) $(INTEG) $(TOOLS))
STUBS	:= $(B)/tests/nvml-stub/libnvidia-ml.so.1 \
	   $(B)/tests/nvml-stub/old/libnvidia-ml.so.1

all: $(PROGS) $(TESTS) $(STUBS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Archives are remade whole when the list of sources changes.
$(B)/libcommon.a: $(call obj,$(COMMON)) Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(B)/liblxd.a: $(call obj,$(LXD)) Makefile
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(B)/labcd: $(call obj,$(LABCD)) $(B)/liblxd.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/labc: $(call obj,$(LABC)) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

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

check:
	tests/run

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

.PHONY: all check clean
.SECONDARY:
