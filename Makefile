# The workbook's entry points. Run `make help` for the list.
#
#   make check CHAPTER=sockets [STAGE=3]   build your code, run the tests, show the scoreboard
#   make test                              verify the workbook itself
#
# CHAPTER may be the name (sockets), the folder (01-sockets) or the number (1).

SHELL    := /bin/sh
ROOT     := $(CURDIR)
CHAPTERS := $(sort $(patsubst %/,%,$(dir $(wildcard chapters/[0-9]*/manifest.json))))

ifneq ($(strip $(CHAPTER)),)
CH_DIR := $(firstword $(filter chapters/$(CHAPTER) chapters/%-$(CHAPTER) \
            chapters/$(CHAPTER)-% chapters/0$(CHAPTER)-%,$(CHAPTERS)))
endif

# Passed on to the chapter's Makefile.
PASS := $(if $(STAGE),STAGE=$(STAGE)) $(if $(IMPL),IMPL=$(IMPL)) $(if $(SAN),SAN=$(SAN)) \
        $(if $(FORCE),FORCE=$(FORCE)) $(if $(JOBS),JOBS=$(JOBS)) $(if $(OWN),OWN=$(OWN))

.PHONY: help hint reset print-program deps clean fuzz bench watch own
help:
	@echo "Workbook commands:"
	@echo "  make check CHAPTER=sockets        build your chapter, run its tests, show the scoreboard"
	@echo "  make check CHAPTER=sockets STAGE=3   only stage 3's tests"
	@echo "  make watch CHAPTER=sockets        make check again each time you save a file in src/"
	@echo "  make compare CHAPTER=sockets [STAGE=3]   after a stage passes: your code beside the reference's"
	@echo "  make own [OWN=0]                  build each chapter on your own earlier chapters (or not)"
	@echo "  make hint CHAPTER=sockets [STAGE=3]  the hint for the next (or a given) stage"
	@echo "  make reset CHAPTER=sockets [STAGE=3] [YES=1]   restore the stubs (your files are backed up first)"
	@echo "  make grade [FORMAT=json]          the scoreboard of every chapter"
	@echo "  make print-program CHAPTER=sockets [IMPL=solution] [SAN=0]   build the program, print its path"
	@echo "  make tsan CHAPTER=http [STAGE=8]  the tests against your program built with ThreadSanitizer (data races)"
	@echo "  make load CHAPTER=http            your program under hostile load: its CPU time and memory"
	@echo "  make test                         verify the workbook (solutions pass, stubs fail)"
	@echo "  make bench CHAPTER=http           requests/s of your server, the reference and nginx (wrk)"
	@echo "  make bench CHAPTER=rest           requests/s of your API, the reference and Express on Node.js (wrk)"
	@echo "  make bench CHAPTER=databases      requests/s on SQLite beside raw inserts and 03's in-memory store (wrk)"
	@echo "  make fuzz CHAPTER=http [IMPL=learner] [FUZZ_TIME=60]   fuzz the request parser (libFuzzer)"
	@echo "  make deps                         install the libraries the workbook needs"
	@echo "  make clean                        remove build output (not your code, not your progress)"
	@echo "Options: IMPL=solution (the reference), SAN=0 (no sanitizers, -O2), FORCE=1 (rerun unchanged tests),"
	@echo "         OWN=1 (build on your own earlier chapters this once)"
	@echo "Chapters: $(notdir $(CHAPTERS))"

# Stops with a message when CHAPTER is missing or unknown (a shell command,
# so that it can begin a RECIPE_ below).
NEED_CHAPTER = { if [ -z "$(CHAPTER)" ]; then \
    echo "Which chapter? For example: make $(MAKECMDGOALS) CHAPTER=sockets"; \
    echo "Chapters: $(notdir $(CHAPTERS))"; exit 2; fi; \
  if [ -z "$(CH_DIR)" ]; then \
    echo "No chapter '$(CHAPTER)'. Chapters: $(notdir $(CHAPTERS))"; exit 2; fi; }
IN_CHAPTER = $(NEED_CHAPTER) && $(MAKE) --no-print-directory -s -C $(CH_DIR)

# These fail without make's "*** Error" lines (harness/quiet.mk).
RECIPE_check   = $(IN_CHAPTER) check $(PASS)
RECIPE_tsan    = $(IN_CHAPTER) tsan $(PASS)
RECIPE_load    = $(IN_CHAPTER) load $(PASS)
RECIPE_compare = $(IN_CHAPTER) compare $(PASS)
RECIPE_reset   = $(NEED_CHAPTER) && harness/reset.sh $(CH_DIR) "$(STAGE)" "$(YES)"
RECIPE_test    = harness/verify.sh $(CHAPTERS)
# Runs every chapter's tests (unchanged ones come from the last run), then
# prints one scoreboard. With FORMAT=json, stdout is JSON only.
RECIPE_grade   = harness/deps.sh >&2 && \
  for ch in $(CHAPTERS); do \
    $(MAKE) --no-print-directory -s -C $$ch check GRADE_FLAGS=--quiet $(PASS) >&2; \
  done; .workbook/bin/grade summary --chapters $(CHAPTERS) $(if $(FORMAT),--format $(FORMAT)) \
    $(if $(filter solution,$(IMPL)),--impl solution)

hint:
	@$(IN_CHAPTER) hint $(PASS)

watch:
	@$(IN_CHAPTER) watch $(PASS)

print-program:
	@$(IN_CHAPTER) print-program $(PASS)

fuzz:
	@$(IN_CHAPTER) fuzz $(PASS) $(if $(FUZZ_TIME),FUZZ_TIME=$(FUZZ_TIME))

bench:
	@$(IN_CHAPTER) bench

# make own: from now on, each chapter builds on the learner's own earlier
# chapters (chapters/NN/src) instead of the reference's; OWN=0 undoes it.
own:
	@if [ "$(OWN)" = 0 ]; then rm -f .workbook/own; \
	  echo "Chapters build on the reference's earlier layers again (solutions/)."; \
	else mkdir -p .workbook && touch .workbook/own; \
	  echo "From now on, each chapter builds on your own earlier chapters: chapter 2 on your"; \
	  echo "chapters/01-sockets/src, and so on. The scoreboard says so. Undo: make own OWN=0"; fi

deps:
	@harness/deps.sh sqlite3 libsodium && echo "workbook: every library is installed."

clean:
	rm -rf .workbook/build .workbook/bin
	rm -f chapters/*/compile_commands.json

QUIET_GOALS := check tsan load compare reset test grade
include harness/quiet.mk
