# Makefile — builds ./winnow, its optional CUDA backend, the tests and benchmarks.
#
# Plain make, no configure step. Sources are found by folder (DESIGN.md's
# layout), so adding a file to a library folder needs no edit here:
#   io/ core/ text/ embed/ cluster/ selectors/ store/ pipelines/ -> build/libwinnow.a
#   cmd/*.c                                                 -> $(BUILD)/winnow, copied to ./winnow
#   core/*.cu (only when nvcc is found)                     -> build/libwinnow_cuda.so
#   tests/unit/test_*.c                                     -> build/tests/test_*
# The command table of cmd/main.c is generated from the cmd/*.c file names.

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
CXX     ?= c++
NVCC    ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

OPT      ?= -O2
SANFLAGS ?=
CPPFLAGS += -I. -I$(BUILD) -D_GNU_SOURCE -DWINNOW_VERSION='"$(VERSION)"' -DSIMDJSON_THREADS_ENABLED=1
CFLAGS   += $(OPT) -g -std=c11 -Wall -Wextra -Wno-unused-parameter -fopenmp -fPIC $(SANFLAGS)
CXXFLAGS += $(OPT) -g -std=c++17 -Wall -Wextra -Wno-unused-parameter -fopenmp -fPIC $(SANFLAGS)
LDFLAGS  += -fopenmp -rdynamic $(SANFLAGS)
LDLIBS   += -lsimdjson -lfaiss -llapack -lopenblas -lsqlite3 -lz -lzstd -llz4 -lcsv -lnettle \
            -lcjson -lxxhash -lutf8proc -lyaml -lm -ldl -lpthread -lstdc++

LIB_DIRS := io core text embed cluster selectors store pipelines
LIB_C    := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_CXX  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cc))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_C)) $(patsubst %.cc,$(BUILD)/%.o,$(LIB_CXX))
CMD_C    := $(wildcard cmd/*.c)
CMD_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CMD_C))
# every cmd/<name>.c except the shared parts defines cmd_<name>()
CMD_NAMES := $(basename $(notdir $(shell grep -l '^int cmd_' $(CMD_C))))
CU_SRCS  := $(wildcard core/*.cu)
CUDA_SO  := $(BUILD)/libwinnow_cuda.so
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

ifneq ($(NVCC),)
ifneq ($(CU_SRCS),)
ALL_CUDA := $(CUDA_SO)
endif
endif

.PHONY: all build-tree deps test check-asan demo bench install clean test-cuda fuzz
all: winnow build-tree
# everything under $(BUILD)/ and nothing outside it: check-asan builds this in
# build-asan/, so the sanitizer binary never replaces the release ./winnow
build-tree: $(BUILD)/winnow $(ALL_CUDA) $(UNIT_BINS)

winnow: $(BUILD)/winnow
	cp $< $@

$(BUILD)/winnow: $(CMD_OBJS) $(BUILD)/libwinnow.a
	$(CXX) $(LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libwinnow.a $(LDLIBS)

$(BUILD)/libwinnow.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/commands.h: $(CMD_C) Makefile
	@mkdir -p $(dir $@)
	@{ for n in $(sort $(CMD_NAMES)); do echo "WN_COMMAND($$n)"; done; } > $@.tmp && mv $@.tmp $@

$(BUILD)/cmd/main.o: $(BUILD)/commands.h

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwinnow.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libwinnow.a $(LDFLAGS) $(LDLIBS)

# CUDA backend: its own kernels plus the plain-C pieces it shares with the CPU
# backend (listed in core/cuda.mk by whoever owns core/*.cu).
-include core/cuda.mk
CUDA_ARCH  ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80
NVCCFLAGS  ?= -O3 -std=c++17 $(CUDA_ARCH) -Xcompiler -fPIC,-fopenmp -I.
$(CUDA_SO): $(CU_SRCS) $(CUDA_SHARED_C) core/backend.h core/core.h $(wildcard core/cuda_*.h)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -shared -o $@ $(CU_SRCS) $(CUDA_SHARED_C) -lcublas -lcublasLt

deps:
	@sh tests/deps.sh

test: deps all
	@WINNOW=$(CURDIR)/$(BUILD)/winnow WINNOW_BUILD=$(CURDIR)/$(BUILD) bash tests/run

# CUDA twin tests: on the device machine (skips cleanly without a GPU).
test-cuda: deps all
	@WINNOW=$(CURDIR)/$(BUILD)/winnow WINNOW_BUILD=$(CURDIR)/$(BUILD) WINNOW_TEST_CUDA=1 bash tests/run unit

check-asan: deps
	$(MAKE) BUILD=build-asan OPT=-O1 SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" NVCC= build-tree
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  WINNOW_ASAN=1 WINNOW=$(CURDIR)/build-asan/winnow WINNOW_BUILD=$(CURDIR)/build-asan bash tests/run

demo: deps winnow
	@bash pipelines/demo.sh

$(BUILD)/bench/core_bench: bench/core_bench.c $(BUILD)/libwinnow.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libwinnow.a $(LDFLAGS) $(LDLIBS)

bench: deps all $(BUILD)/bench/core_bench
	@bash bench/run

# libFuzzer harnesses (clang) in build-fuzz/, FUZZ_SECONDS each; fails on a crash
FUZZ_SECONDS ?= 20
fuzz: deps
	@WINNOW_LIB_DIRS="$(LIB_DIRS)" WINNOW_LDLIBS="$(LDLIBS)" FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/build.sh

install: winnow
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 winnow $(DESTDIR)$(PREFIX)/bin/winnow
	if [ -f $(CUDA_SO) ]; then install -d $(DESTDIR)$(PREFIX)/lib/winnow && \
	  install -m 755 $(CUDA_SO) $(DESTDIR)$(PREFIX)/lib/winnow/; fi

clean:
	rm -rf build build-asan build-fuzz winnow demo.db

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)
