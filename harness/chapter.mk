# chapter.mk -- the build and test rules every chapter shares.
#
# A chapter's Makefile names its program and modules, then includes this:
#
#   PROGRAM := netd                 # the program the tests start
#   MODULES := buf net loop echo    # src/*.c but main.c: linked into the tests too
#   PKGS    :=                      # pkg-config names the program links (libcjson ...)
#   USES    :=                      # earlier layers: 01-sockets/net 01-sockets/loop
#   LIBS    :=                      # other libraries the program links (-lm)
#   EXTRA_CFLAGS :=                 # for every source of the program, the
#                                   # earlier layers' too (-DITEM_SKU=1)
#   include ../../harness/chapter.mk
#
# Variables a learner (or the top-level Makefile) may set:
#   IMPL=learner|solution  build src/, or the reference in solutions/ laid
#                          over it (in a separate build folder; src/ is
#                          never touched)
#   IMPL=stub              the untouched stubs, from STUB_DIR (make test)
#   SAN=1|0                AddressSanitizer + UBSan (default), or an -O2 build
#   STAGE=N                make check runs only stage N's tests
#   FORCE=1                rerun the tests even if nothing changed
#   WERROR=1               warnings are errors (always for solutions)
#   OWN=1|0                build on the learner's own earlier chapters
#                          (chapters/NN/src) instead of the reference's;
#                          the default is 1 once `make own` was run

ROOT    := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
CH_NAME := $(notdir $(CURDIR))
IMPL    ?= learner
SAN     ?= 1
STAGE   ?=

ifeq ($(filter $(IMPL),learner solution stub),)
$(error IMPL must be learner or solution, not '$(IMPL)')
endif

# Earlier layers (USES) come from the reference, or with OWN=1 from the
# learner's own chapters -- only for the learner's build.
# (The harness's own tests point OWN_ROOT and REF_ROOT at fixtures.)
OWN ?= $(if $(wildcard $(ROOT)/.workbook/own),1,0)
OWN_ROOT ?= $(ROOT)/chapters
REF_ROOT ?= $(ROOT)/solutions
ifeq ($(IMPL)-$(OWN),learner-1)
LAYERS     := $(OWN_ROOT)
OWN_SUFFIX := -own
else
LAYERS     := $(REF_ROOT)
OWN_SUFFIX :=
endif

# The chapter's reference (the harness's own tests point it elsewhere).
SOLUTION_DIR ?= $(ROOT)/solutions/$(CH_NAME)/src

ifeq ($(IMPL),solution)
# The reference files first; anything the solution does not have comes
# from the chapter. Warnings are errors in the reference.
SRCDIRS := $(SOLUTION_DIR) $(CURDIR)/src
WERROR  := 1
else ifeq ($(IMPL),stub)
# make test checks that the stubs compile without warnings.
SRCDIRS := $(or $(STUB_DIR),$(CURDIR)/src)
WERROR  := 1
else
SRCDIRS := $(CURDIR)/src
endif

ifeq ($(SAN),0)
MODE     := plain
OPTFLAGS := -O2 -g
else ifeq ($(SAN),thread)
# ThreadSanitizer (make tsan): data races between the loop and the workers.
MODE     := tsan
OPTFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
else
MODE     := san
OPTFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
endif

BUILD  := $(ROOT)/.workbook/build/$(CH_NAME)/$(IMPL)-$(MODE)$(OWN_SUFFIX)
BIN    := $(ROOT)/.workbook/bin
GRADE  := $(BIN)/grade
CC     ?= cc

# Earlier layers: "01-sockets/net" -> solutions/01-sockets/src/net.c
USE_DIRS := $(sort $(foreach u,$(USES),$(LAYERS)/$(dir $(u))src))
USE_OBJS := $(foreach u,$(USES),$(BUILD)/use/$(notdir $(u)).o)

PKG_CFLAGS := $(if $(PKGS),$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS   := $(if $(PKGS),$(shell pkg-config --libs $(PKGS)))
TEST_CFLAGS := $(shell pkg-config --cflags criterion libcjson 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs criterion libcjson 2>/dev/null)

WARN    := -Wall -Wextra -pedantic $(if $(filter 1,$(WERROR)),-Werror)
# The grader reads the compiler's messages through a pipe and sets
# WB_COLOR when they end on a terminal.
DIAG    := $(if $(WB_COLOR),-fdiagnostics-color=always)
INCS    := $(foreach d,$(SRCDIRS) $(USE_DIRS),-I$(d))
CFLAGS_APP  := -std=c11 -D_XOPEN_SOURCE=700 -pthread $(EXTRA_CFLAGS) $(WARN) $(DIAG) $(OPTFLAGS) \
               $(INCS) $(PKG_CFLAGS) -MMD -MP
CFLAGS_TEST := $(EXTRA_TEST_CFLAGS) $(DIAG) -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation $(OPTFLAGS) $(INCS) \
               -I$(ROOT)/harness/lib $(PKG_CFLAGS) $(TEST_CFLAGS) -MMD -MP
LDFLAGS_ALL := $(filter -fsanitize=%,$(OPTFLAGS)) -pthread

APP_OBJS  := $(MODULES:%=$(BUILD)/%.o) $(USE_OBJS)
TEST_SRCS := $(sort $(wildcard $(CURDIR)/tests/*.c))
TEST_OBJS := $(TEST_SRCS:$(CURDIR)/tests/%.c=$(BUILD)/tests/%.o) \
             $(BUILD)/harness/wbtest.o $(BUILD)/harness/report.o $(BUILD)/harness/measure.o \
             $(BUILD)/harness/httpc.o $(BUILD)/harness/jsontest.o $(BUILD)/harness/schema.o

# Tests reused from an earlier chapter: REUSE_TESTS := 03-rest/2_items ...
# names chapters/03-rest/tests/2_items.c, compiled with harness/lib/wbreuse.h
# so that they run as tests of this chapter's suite REUSE_SUITE.
REUSE_OBJS := $(foreach t,$(REUSE_TESTS),$(BUILD)/tests/reuse/$(subst /,--,$(t)).o)
TEST_OBJS  += $(REUSE_OBJS)

PROGRAM_BIN := $(BUILD)/$(PROGRAM)
TESTS_BIN   := $(BUILD)/tests/run-tests

# Fixture chapters of the harness's own tests share sources from here.
SRCDIRS += $(EXTRA_SRC_DIRS)

vpath %.c $(SRCDIRS)

.PHONY: all hint print-program print-tests clean fuzz bench watch compare
.DEFAULT_GOAL := check

all: $(PROGRAM_BIN) $(TESTS_BIN) $(if $(filter learner,$(IMPL)),$(CURDIR)/compile_commands.json)

# The program never links Criterion: Criterion's workers set BXFI_MAP in
# the environment, and a program linked with libcriterion that inherits it
# aborts at start-up, printing nothing.
# MAIN_FROM := 03-rest: the program's main.c is that earlier chapter's
# (chapter 04 runs 03's restd with a store of its own).
ifneq ($(MAIN_FROM),)
$(BUILD)/main.o: $(LAYERS)/$(MAIN_FROM)/src/main.c | $(BUILD)/tests $(BUILD)/harness $(BUILD)/use
	$(CC) $(CFLAGS_APP) -c $< -o $@
endif

$(PROGRAM_BIN): $(BUILD)/main.o $(APP_OBJS)
	$(CC) $(LDFLAGS_ALL) $^ $(PKG_LIBS) $(LIBS) -o $@

$(TESTS_BIN): $(TEST_OBJS) $(APP_OBJS) | $(PROGRAM_BIN)
	$(CC) $(LDFLAGS_ALL) $^ $(TEST_LIBS) $(PKG_LIBS) $(LIBS) -o $@

$(BUILD)/%.o: %.c | $(BUILD)/tests $(BUILD)/harness $(BUILD)/use
	$(CC) $(CFLAGS_APP) -c $< -o $@

# One rule per earlier layer: 01-sockets/net -> solutions/01-sockets/src/net.c
# (chapters/01-sockets/src/net.c with OWN=1)
define use_rule
$(BUILD)/use/$(notdir $(1)).o: $(LAYERS)/$(dir $(1))src/$(notdir $(1)).c | $(BUILD)/use
	$$(CC) $$(CFLAGS_APP) -c $$< -o $$@
endef
$(foreach u,$(USES),$(eval $(call use_rule,$(u))))

$(BUILD)/tests/%.o: $(CURDIR)/tests/%.c | $(BUILD)/tests
	$(CC) $(CFLAGS_TEST) -c $< -o $@

define reuse_rule
$(BUILD)/tests/reuse/$(subst /,--,$(1)).o: $(ROOT)/chapters/$(dir $(1))tests/$(notdir $(1)).c $(ROOT)/harness/lib/wbreuse.h | $(BUILD)/tests
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_TEST) -include $(ROOT)/harness/lib/wbreuse.h -DWB_REUSE_SUITE=$(REUSE_SUITE) -c $$< -o $$@
endef
$(foreach t,$(REUSE_TESTS),$(eval $(call reuse_rule,$(t))))

$(BUILD)/harness/wbtest.o: $(ROOT)/harness/lib/wbtest.c | $(BUILD)/harness
	$(CC) $(CFLAGS_TEST) -Werror -pedantic -DWB_PROGRAM='"$(PROGRAM_BIN)"' -c $< -o $@

$(BUILD)/harness/report.o: $(ROOT)/harness/lib/report.c | $(BUILD)/harness
	$(CC) $(CFLAGS_TEST) -Werror -c $< -o $@

$(BUILD)/harness/measure.o: $(ROOT)/harness/lib/measure.c | $(BUILD)/harness
	$(CC) $(CFLAGS_TEST) -Werror -pedantic -c $< -o $@

$(BUILD)/harness/httpc.o: $(ROOT)/harness/lib/httpc.c | $(BUILD)/harness
	$(CC) $(CFLAGS_TEST) -Werror -pedantic -c $< -o $@

$(BUILD)/harness/jsontest.o: $(ROOT)/harness/lib/jsontest.c | $(BUILD)/harness
	$(CC) $(CFLAGS_TEST) -Werror -pedantic -c $< -o $@

$(BUILD)/harness/schema.o: $(ROOT)/harness/lib/schema.c | $(BUILD)/harness
	$(CC) $(CFLAGS_TEST) -Werror -pedantic -c $< -o $@

$(BUILD)/tests $(BUILD)/harness $(BUILD)/use $(BIN):
	@mkdir -p $@

# The grader: plain -O2, warnings are errors. Paths are cut at PATH_MAX on
# purpose, hence -Wno-format-truncation.
GRADE_SRCS := $(wildcard $(ROOT)/harness/grader/*.c) $(ROOT)/harness/lib/measure.c
$(GRADE): $(GRADE_SRCS) $(wildcard $(ROOT)/harness/grader/*.h) | $(BIN)
	@$(CC) -std=c11 -Wall -Wextra -pedantic -Werror \
	  -Wno-format-truncation -O2 -I$(ROOT)/harness/lib $(shell pkg-config --cflags libcjson) \
	  $(GRADE_SRCS) $(shell pkg-config --libs libcjson) -o $@

# clangd reads this to find Criterion's, the harness's and the chapter's
# headers: editors work without any setup.
$(CURDIR)/compile_commands.json: $(CURDIR)/Makefile $(ROOT)/harness/chapter.mk
	@{ echo '['; sep=''; \
	  for f in $(wildcard $(CURDIR)/src/*.c); do \
	    printf '%s{"directory":"%s","file":"%s","command":"cc %s -c %s"}\n' "$$sep" \
	      "$(CURDIR)" "$$f" '$(subst ",\",$(CFLAGS_APP))' "$$f"; sep=','; done; \
	  for f in $(TEST_SRCS); do \
	    printf '%s{"directory":"%s","file":"%s","command":"cc %s -c %s"}\n' "$$sep" \
	      "$(CURDIR)" "$$f" '$(subst ",\",$(CFLAGS_TEST))' "$$f"; sep=','; done; \
	  echo ']'; } > $@

# The grader's options for a run of implementation $(1): the chapter, the
# earlier layers, the selection.
grade_run = $(GRADE) run --chapter $(CURDIR) --impl $(1) \
  $(if $(USES),--uses "$(USES)" $(if $(OWN_SUFFIX),--own $(OWN_ROOT))) \
  $(if $(STAGE),--stage $(STAGE)) $(if $(filter 1,$(FORCE)),--force) \
  $(if $(JOBS),--jobs $(JOBS)) $(GRADE_FLAGS)
SUBMAKE := $(MAKE) --no-print-directory -s

# make check: deps.sh runs first (on a fresh machine it installs Criterion
# and cJSON, which even the grader needs), then the grader builds both
# programs (--build: it shows the compiler's messages without make's) and
# runs the tests. Failing, it ends without make's "*** Error" lines
# (quiet.mk).
RECIPE_check = $(ROOT)/harness/deps.sh $(PKGS) && $(SUBMAKE) $(GRADE) && \
  $(call grade_run,$(IMPL)) --build '$(SUBMAKE) all' --tests $(TESTS_BIN) --program $(PROGRAM_BIN)

hint:
	@$(ROOT)/harness/deps.sh
	@$(MAKE) --no-print-directory -s $(GRADE)
	@$(GRADE) hint --chapter $(CURDIR) $(if $(STAGE),--stage $(STAGE))

print-program:
	@$(MAKE) --no-print-directory -s $(PROGRAM_BIN) >&2
	@echo $(PROGRAM_BIN)

# make tsan: the same tests, against the program built with ThreadSanitizer
# (the test binary itself stays an ASan build: Criterion's sandbox and
# TSan's memory layout do not go together). A data race between the loop
# thread and a worker stops the program, and the failing test shows TSan's
# report. Results are kept apart from make check's (--impl NAME-tsan).
TSAN_BUILD := $(ROOT)/.workbook/build/$(CH_NAME)/$(IMPL)-tsan$(OWN_SUFFIX)
SAN_TESTS  := $(ROOT)/.workbook/build/$(CH_NAME)/$(IMPL)-san$(OWN_SUFFIX)/tests/run-tests
RECIPE_tsan = $(ROOT)/harness/deps.sh $(PKGS) && $(SUBMAKE) $(GRADE) && \
  $(call grade_run,$(IMPL)-tsan) \
  --build '$(SUBMAKE) all SAN=1 && $(SUBMAKE) print-program SAN=thread >/dev/null' \
  --tests $(SAN_TESTS) --program $(TSAN_BUILD)/$(PROGRAM)

print-tests:
	@$(MAKE) --no-print-directory -s $(TESTS_BIN) >&2
	@echo $(TESTS_BIN)

# make fuzz: the chapter's libFuzzer targets (fuzz/*.c) against the
# reference -- or your code with IMPL=learner -- for FUZZ_TIME seconds.
# The chapter Makefile names FUZZ_MODULES (and FUZZ_USES from earlier layers);
# the targets link the chapter's PKGS too (03's oracle is cJSON).
FUZZ_TIME ?= 60
FUZZ_IMPL := $(if $(filter command line,$(origin IMPL)),$(IMPL),solution)
FUZZ_DIRS := $(if $(filter solution,$(FUZZ_IMPL)),$(ROOT)/solutions/$(CH_NAME)/src) $(CURDIR)/src
FUZZ_BIN  := $(ROOT)/.workbook/build/$(CH_NAME)/fuzz-$(FUZZ_IMPL)/fuzz
FUZZ_WORK := $(ROOT)/.workbook/fuzz/$(CH_NAME)
fuzz:
	@[ -n "$(wildcard $(CURDIR)/fuzz/*.c)" ] || { echo "$(CH_NAME) has no fuzz target"; exit 2; }
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang (dnf install clang; macOS: brew install llvm)"; exit 2; }
	@mkdir -p $(dir $(FUZZ_BIN)) $(FUZZ_WORK)
	@echo "fuzzing the $(FUZZ_IMPL) code for $(FUZZ_TIME) s (corpus: $(FUZZ_WORK))"
	@clang -std=gnu11 -D_XOPEN_SOURCE=700 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all $(foreach d,$(FUZZ_DIRS) $(USE_DIRS),-I$(d)) $(PKG_CFLAGS) \
	  $(wildcard $(CURDIR)/fuzz/*.c) \
	  $(foreach m,$(FUZZ_MODULES),$(firstword $(wildcard $(addsuffix /$(m).c,$(FUZZ_DIRS))))) \
	  $(foreach u,$(FUZZ_USES),$(ROOT)/solutions/$(dir $(u))src/$(notdir $(u)).c) $(PKG_LIBS) -o $(FUZZ_BIN)
	@cd $(FUZZ_WORK) && $(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -max_len=8192 \
	  -print_final_stats=1 $(FUZZ_WORK) $(CURDIR)/fuzz/corpus 2>&1 | \
	  grep -E "^#[0-9]+ *DONE|stat::number_of_executed_units|ERROR|SUMMARY|Test unit written|==[0-9]+==" ; \
	  status=$${PIPESTATUS:-0}; ls $(FUZZ_WORK)/crash-* >/dev/null 2>&1 && \
	  { echo "fuzz: a crash was found; the input is in $(FUZZ_WORK)/crash-*"; exit 1; } || \
	  echo "fuzz: no crash, no sanitizer report in $(FUZZ_TIME) s"

# make load: the program (an -O2 build) under hostile load -- many
# connections, requests one byte per write, clients that never read or stall
# halfway, no file descriptors left, SIGTERM in the middle -- with its CPU
# time and peak memory measured and bounded (harness/load/hostile.c). The
# chapter Makefile names LOAD_FLAGS (the request, the answer) and LOAD_ARGS
# (the program's arguments).
HOSTILE := $(BIN)/hostile
$(HOSTILE): $(ROOT)/harness/load/hostile.c $(ROOT)/harness/lib/measure.c | $(BIN)
	@$(CC) -std=c11 -Wall -Wextra -pedantic -Werror -O2 -I$(ROOT)/harness/lib $^ -o $@
RECIPE_load = { [ -n "$(LOAD_FLAGS)" ] || { echo "$(CH_NAME) has no load check"; exit 2; }; } && \
  $(SUBMAKE) $(HOSTILE) && $(SUBMAKE) print-program SAN=0 >/dev/null && \
  $(HOSTILE) $(LOAD_FLAGS) -- $(ROOT)/.workbook/build/$(CH_NAME)/$(IMPL)-plain$(OWN_SUFFIX)/$(PROGRAM) $(LOAD_ARGS)

# make bench: a chapter's bench.sh, if it has one.
bench:
	@[ -x $(CURDIR)/bench.sh ] || { echo "$(CH_NAME) has no benchmark"; exit 2; }
	@$(CURDIR)/bench.sh

# make watch: make check again each time a file of src/ is saved (and of
# the earlier chapters' src/ with OWN=1). Keys: Enter, h (hint), q (quit).
watch:
	@$(ROOT)/harness/deps.sh $(PKGS)
	@$(SUBMAKE) $(GRADE)
	@$(GRADE) watch --chapter $(CURDIR) --watch $(CURDIR)/src \
	  $(if $(OWN_SUFFIX),$(foreach d,$(USE_DIRS),--watch $(d))) \
	  --command '$(SUBMAKE) -C $(CURDIR) check'

# make compare: your code for a stage that passes beside the reference's.
RECIPE_compare = $(ROOT)/harness/deps.sh && $(SUBMAKE) $(GRADE) && \
  $(GRADE) compare --chapter $(CURDIR) --solution $(SOLUTION_DIR) $(if $(STAGE),--stage $(STAGE))

clean:
	rm -rf $(ROOT)/.workbook/build/$(CH_NAME) $(CURDIR)/compile_commands.json

QUIET_GOALS := check tsan load compare
include $(ROOT)/harness/quiet.mk

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d $(BUILD)/harness/*.d $(BUILD)/use/*.d)
