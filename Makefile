# iamgate - one entry point: all, check, demo, bench, fuzz, lint, install, deb
#
# `make` builds build/pam_iamgate.so, build/iamgate-helper (+ its open_session
# half build/iamgate-issuer) and build/iamgate.
# `make check` installs missing Debian packages (as root), then builds and runs
# every test suite, the ASan+UBSan build and the valgrind run, and prints one
# summary line "N passed, N failed".

CC       ?= gcc
BUILD    ?= build
PREFIX   ?= /usr
SAN      ?=
PKGS     := jansson liboath libcurl libxml-2.0 libcrypto libqrencode

# Where the module execs the helper from when no helper= option is given.
HELPER_PATH ?= /usr/libexec/iamgate/iamgate-helper
CONFIG_PATH ?= /etc/iamgate/iamgate.json

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
            -Wstrict-prototypes -Wvla
ifeq ($(SAN),1)
HARDEN   := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer -fstack-protector-strong
OPT      := -O1 -g
else
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fstack-clash-protection
OPT      := -O2 -g
endif
CPPFLAGS := -D_GNU_SOURCE -Iinclude \
            -DIG_DEFAULT_HELPER='"$(HELPER_PATH)"' -DIG_DEFAULT_CONFIG='"$(CONFIG_PATH)"'
CFLAGS   := -std=c11 $(OPT) $(WARN) $(HARDEN) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDHARDEN := -Wl,-z,relro -Wl,-z,now -Wl,--as-needed
ifeq ($(SAN),1)
LDHARDEN += -fsanitize=address,undefined
endif

# The tree is laid out by link boundary (docs/ARCHITECTURE.md); each archive
# is built from one folder:
#   src/base   linked into everything, the PAM module included (no network)
#   src/core   the decision units (no network): libiamgate-core.a
#   src/aws    the AWS clients (libcurl, libxml2): libiamgate-aws.a
#   src/pam, src/helper, src/issuer, src/cli   one folder per program
BASE_SRC := $(wildcard src/base/*.c)
CORE_SRC := $(wildcard src/core/*.c)
AWS_SRC  := $(wildcard src/aws/*.c)
obj_of    = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(1))
BASE_A   := $(BUILD)/libiamgate-base.a
CORE_A   := $(BUILD)/libiamgate-core.a
AWS_A    := $(BUILD)/libiamgate-aws.a
# Link order: a unit's archive before the archives it uses.
ALL_A    := $(AWS_A) $(CORE_A) $(BASE_A)
LEAN_A   := $(CORE_A) $(BASE_A)
LEAN_LIBS := $(shell pkg-config --libs jansson liboath libcrypto 2>/dev/null)
HDRS     := $(wildcard include/iamgate/*.h)
# Unit tests link every archive and the programs' units (not their main).
PROG_UNITS := $(call obj_of,$(filter-out %/main.c,$(wildcard src/helper/*.c src/issuer/*.c src/cli/*.c)))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

PROGS := $(BUILD)/pam_iamgate.so $(BUILD)/iamgate-helper $(BUILD)/iamgate-issuer $(BUILD)/iamgate

.PHONY: all check unit demo bench fuzz lint deps install clean asan
all: $(PROGS)

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIE -c -o $@ $<

$(BASE_A): $(call obj_of,$(BASE_SRC))
$(CORE_A): $(call obj_of,$(CORE_SRC))
$(AWS_A): $(call obj_of,$(AWS_SRC))
$(BUILD)/libiamgate-%.a:
	rm -f $@
	ar rcs $@ $^

# iamgate-helper: auth, account, close_session; no libcurl, no libxml2 (their
# loading would dominate an exec'd auth call).
$(BUILD)/iamgate-helper: $(call obj_of,$(wildcard src/helper/*.c)) $(LEAN_A)
	$(CC) $(CFLAGS) -fPIE -pie $(LDHARDEN) -o $@ $^ $(LEAN_LIBS)

$(BUILD)/iamgate-issuer: $(call obj_of,$(wildcard src/issuer/*.c)) $(ALL_A)
	$(CC) $(CFLAGS) -fPIE -pie $(LDHARDEN) -o $@ $^ $(PKG_LIBS)

$(BUILD)/iamgate: $(call obj_of,$(wildcard src/cli/*.c)) $(ALL_A)
	$(CC) $(CFLAGS) -fPIE -pie $(LDHARDEN) -o $@ $^ $(PKG_LIBS)

# The module: thin adaptor, libpam + jansson only, exports only pam_sm_*;
# it links src/base alone, compiled position-independent.
$(BUILD)/pam_iamgate.so: $(wildcard src/pam/*.c) src/pam/pam_iamgate.map $(BASE_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -shared $(LDHARDEN) \
	  -Wl,--version-script=src/pam/pam_iamgate.map -o $@ $(wildcard src/pam/*.c) $(BASE_SRC) \
	  $(shell pkg-config --libs jansson) -lpam

$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(PROG_UNITS) $(ALL_A) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) -DIG_SOURCE_DIR='"$(CURDIR)"' -fPIE -pie $(LDHARDEN) -o $@ $< \
	  $(PROG_UNITS) $(ALL_A) $(PKG_LIBS) -lcmocka

$(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT_BIN)

deps:
	@tests/deps.sh

# check: deps, build, lint, every suite, then the sanitizer and valgrind runs.
check: deps
	@$(MAKE) --no-print-directory all unit
	@tests/run-all.sh

asan:
	@$(MAKE) --no-print-directory SAN=1 BUILD=build/asan all unit

lint:
	@tests/lint.sh

# fuzz: every libFuzzer target for FUZZ_SECONDS each (make check runs them
# for IG_FUZZ_SECONDS, 15 s by default, to keep CI short).
FUZZ_SECONDS ?= 300
fuzz:
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

install: all
	install -d -m 0755 $(DESTDIR)$(PREFIX)/libexec/iamgate $(DESTDIR)$(PREFIX)/sbin
	install -d -m 0755 $(DESTDIR)/lib/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/security
	install -m 0755 $(BUILD)/iamgate-helper $(DESTDIR)$(PREFIX)/libexec/iamgate/iamgate-helper
	install -m 0755 $(BUILD)/iamgate-issuer $(DESTDIR)$(PREFIX)/libexec/iamgate/iamgate-issuer
	install -m 0755 $(BUILD)/iamgate $(DESTDIR)$(PREFIX)/sbin/iamgate
	install -m 0644 $(BUILD)/pam_iamgate.so $(DESTDIR)/lib/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/security/pam_iamgate.so

clean:
	rm -rf build

# ---- packaging (packaging/, tests/pkg/) ----------------------------------
# deb: build the Debian package with dpkg-buildpackage from a copy of the tree
#      in build/deb/ (packaging/debian/ becomes debian/ there); reuses the
#      package when no source file changed.
# man: the man pages are roff sources (packaging/man/), nothing to build;
#      check that groff and man render them without a single warning.
MAN_PAGES := packaging/man/pam_iamgate.8 packaging/man/iamgate.8 packaging/man/iamgate.json.5

.PHONY: deb man
deb:
	@packaging/build-deb.sh

man:
	@for m in $(MAN_PAGES); do \
	  out=$$(groff -ww -man -z $$m 2>&1; \
	         LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z $$m 2>&1 >/dev/null); \
	  if [ -n "$$out" ]; then printf '%s:\n%s\n' "$$m" "$$out"; exit 1; fi; \
	  echo "$$m: no warnings"; \
	done

# bench: what the gate costs beside pam_oath and google-authenticator, issuance
# latency, allowlist scale, audit throughput, logins/s (issue 8): one table on
# stdout and in build/bench/RESULTS.md.  Never part of `make check`; it
# asserts no time.  BENCH_SCALE=0.2 for a quick look, BENCH_ONLY="1 3".
bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh
