# Makefile: the commands users type.  The build itself is CMake's
# (CMakeLists.txt); this file only chains the steps so that one word does
# the whole job on a fresh Debian or Ubuntu machine:
#
#   make run-all          install what is missing, build, run every experiment
#   make run EXP=<id>     the same for one experiment
#   make test             install what is missing, build, run ctest
#   make install          install under PREFIX (default /usr/local)
#   make deb              a Debian package, in build/
#   make bench | list | doctor | clean
#   make vm-linkemu       tc netem against socklab's emulator, in a guest
#   make format           lay the C sources out in kernel style (.clang-format)
#   make format-check     fail on any source clang-format would change (CI)
#   make guides [RUN=dir] the lab guides' generated blocks, from a run
#
# Running experiments needs root (network namespaces, packet capture).

BUILD := build
SOCKLAB := ./$(BUILD)/socklab

# What the build and the experiments need.  `deps` asks dpkg first and only
# calls apt-get (update + install) when something is missing, so that a
# machine that has everything never touches the network.  dpkg-dev and
# file: CPack's deb finds the package's library dependencies with them
# (dpkg-shlibdeps); man-db: the test that reads the man pages; tshark: the
# test that the captures decode in Wireshark as plain TCP (its debconf
# question on non-root capture is answered by DEBIAN_FRONTEND below).
# socklab vm: qemu-system-x86 boots the guest, busybox-static is its
# initramfs's only program, kmod's depmod writes an extracted kernel
# package's modules.dep and its modprobe loads the guest's modules.
DEPS := build-essential cmake pkg-config libev-dev libcmocka-dev \
	libpcap-dev libmnl-dev libnetfilter-queue-dev iproute2 tcpdump \
	iptables nftables ethtool libtracefs-dev libtraceevent-dev \
	libjansson-dev clang-format jq librsvg2-dev librsvg2-bin \
	fonts-dejavu-core libgraphviz-dev chromium dpkg-dev file man-db \
	tshark qemu-system-x86 busybox-static kmod zlib1g-dev

PREFIX ?= /usr/local

.PHONY: all deps build run-all run test test-asan bench clean list doctor \
	vm-linkemu \
	format format-check catalogue pictures guides install deb

all: build

deps:
	@command -v dpkg-query >/dev/null || { \
		echo "make deps: no dpkg here; install by hand: $(DEPS)" >&2; \
		exit 1; }
	@missing=""; \
	for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | \
			grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: missing:$$missing; run as root (sudo make deps)" >&2; \
		exit 1; \
	fi; \
	echo "make deps: installing$$missing"; \
	apt-get update && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing

build: deps
	cmake -S . -B $(BUILD)
	cmake --build $(BUILD) -j$$(nproc)

run-all: build
	$(SOCKLAB) run --all

run: build
	@if [ -z "$(EXP)" ]; then \
		echo "usage: make run EXP=<id>   (make list shows the ids)" >&2; \
		exit 64; \
	fi
	$(SOCKLAB) run $(EXP)

test: build
	cd $(BUILD) && ctest --output-on-failure

# The link emulator's two backends on the same spec, side by side, in a
# QEMU guest whose kernel has sch_netem (socklab vm; KERNEL=debian:6.1 by
# default, or a linux-image .deb).  The host's own kernel may lack netem.
KERNEL ?= debian:6.1
vm-linkemu: build
	$(SOCKLAB) vm --kernel $(KERNEL) --exec -- $(BUILD)/tests/test_linkemu_compare

# bin/socklab, its experiments in libexec/socklab (found relative to
# bin/socklab, so the tree can be moved), man pages, bash completion and
# the lab guides in share/doc/socklab.  DESTDIR works as usual.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# build/socklab_<version>_<arch>.deb, installing under /usr.
deb: build
	cd $(BUILD) && cpack -G DEB

# The same tests on an AddressSanitizer + UBSan build (CI runs it too).
test-asan: deps
	cmake -S . -B $(BUILD)-asan -DSOCKLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD)-asan -j$$(nproc)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		ctest --output-on-failure

# The layout of every tracked C file, by .clang-format (kernel style).  The
# experiments and the negative ones are laid out by hand (their own
# .clang-format says why); clang-format leaves them as they are.  Debian 12's
# clang-format is version 14: another version may lay a line out otherwise.
CLANG_FORMAT ?= $(shell command -v clang-format-14 || command -v clang-format)
C_SOURCES = $(shell git ls-files '*.c' '*.h')

format: deps
	$(CLANG_FORMAT) -i $(C_SOURCES)

format-check: deps
	@$(CLANG_FORMAT) --dry-run --Werror $(C_SOURCES) && \
		echo "format-check: $(words $(C_SOURCES)) files laid out as .clang-format says"

bench: build
	$(SOCKLAB) bench

list: build
	$(SOCKLAB) list

# docs/'s pictures (ladders, the state machine, the report), rendered from
# the last run: run `make run-all` first.
pictures: build
	tools/pictures.sh $(SOCKLAB) results/latest

# CATALOGUE.md from the experiments' own claims and the verdicts of the
# last run (run `make run-all` first for fresh ones).
catalogue: build
	tools/catalogue.sh $(SOCKLAB) $(wildcard results/latest) > CATALOGUE.md.tmp
	mv CATALOGUE.md.tmp CATALOGUE.md

# The lab guides' generated blocks (timeline excerpts, ladders,
# predictions): from a fresh run of the experiments that have them, or
# from RUN=<run folder>; their recordings land in experiments/<id>/guide/.
# Run it after changing an experiment; the test guides fails until then.
guides: build
	tools/guides.sh $(BUILD) update $(RUN)

doctor: build
	$(SOCKLAB) doctor

# Leftover namespaces first (that needs the binary, and root), then the
# build folder.
clean:
	@if [ -x $(SOCKLAB) ] && [ "$$(id -u)" = 0 ]; then \
		$(SOCKLAB) clean; \
	elif [ -x $(SOCKLAB) ]; then \
		echo "make clean: not root, leftover namespaces are not removed (sudo make clean)"; \
	fi
	rm -rf $(BUILD)
