# The workbook's entry points. Run `make help` for the list.
#
#   make check CHAPTER=sockets [STAGE=3]   build your code, run the tests, show the scoreboard
#   make test                              verify the workbook itself
#
# CHAPTER may be the name (sockets), the folder (01-sockets) or the number (1).

SHELL    := /bin/sh
CHAPTERS := $(sort $(patsubst %/,%,$(dir $(wildcard chapters/[0-9]*/manifest.json))))

ifneq ($(strip $(CHAPTER)),)
CH_DIR := $(firstword $(filter chapters/$(CHAPTER) chapters/%-$(CHAPTER) \
            chapters/$(CHAPTER)-% chapters/0$(CHAPTER)-%,$(CHAPTERS)))
endif

# Passed on to the chapter's Makefile.
PASS := $(if $(STAGE),STAGE=$(STAGE)) $(if $(IMPL),IMPL=$(IMPL)) $(if $(SAN),SAN=$(SAN)) \
        $(if $(FORCE),FORCE=$(FORCE)) $(if $(JOBS),JOBS=$(JOBS))

.PHONY: help check hint reset grade test print-program deps clean need-chapter fuzz bench tsan load

help:
	@echo "Workbook commands:"
	@echo "  make check CHAPTER=sockets        build your chapter, run its tests, show the scoreboard"
	@echo "  make check CHAPTER=sockets STAGE=3   only stage 3's tests"
	@echo "  make hint CHAPTER=sockets [STAGE=3]  the hint for the next (or a given) stage"
	@echo "  make reset CHAPTER=sockets [STAGE=3] [YES=1]   restore the stubs (your files are backed up first)"
	@echo "  make grade [FORMAT=json]          the scoreboard of every chapter"
	@echo "  make print-program CHAPTER=sockets [IMPL=solution] [SAN=0]   build the program, print its path"
	@echo "  make tsan CHAPTER=http [STAGE=8]  the tests against your program built with ThreadSanitizer (data races)"
	@echo "  make load CHAPTER=http            your program under hostile load: its CPU time and memory"
	@echo "  make test                         verify the workbook (solutions pass, stubs fail)"
	@echo "  make bench CHAPTER=http           requests/s of your server, the reference and nginx (wrk)"
	@echo "  make fuzz CHAPTER=http [IMPL=learner] [FUZZ_TIME=60]   fuzz the request parser (libFuzzer)"
	@echo "  make deps                         install the libraries the workbook needs"
	@echo "  make clean                        remove build output (not your code, not your progress)"
	@echo "Options: IMPL=solution (the reference), SAN=0 (no sanitizers, -O2), FORCE=1 (rerun unchanged tests)"
	@echo "Chapters: $(notdir $(CHAPTERS))"

need-chapter:
	@if [ -z "$(CHAPTER)" ]; then \
	  echo "Which chapter? For example: make $(MAKECMDGOALS) CHAPTER=sockets"; \
	  echo "Chapters: $(notdir $(CHAPTERS))"; exit 2; fi
	@if [ -z "$(CH_DIR)" ]; then \
	  echo "No chapter '$(CHAPTER)'. Chapters: $(notdir $(CHAPTERS))"; exit 2; fi

check: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) check $(PASS)

hint: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) hint $(PASS)

load: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) load $(PASS)

tsan: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) tsan $(PASS)

print-program: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) print-program $(PASS)

fuzz: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) fuzz $(PASS) $(if $(FUZZ_TIME),FUZZ_TIME=$(FUZZ_TIME))

bench: need-chapter
	@$(MAKE) --no-print-directory -s -C $(CH_DIR) bench

reset: need-chapter
	@harness/reset.sh $(CH_DIR) "$(STAGE)" "$(YES)"

# Runs every chapter's tests (unchanged ones come from the last run), then
# prints one scoreboard. With FORMAT=json, stdout is JSON only.
grade:
	@harness/deps.sh >&2
	@for ch in $(CHAPTERS); do \
	  $(MAKE) --no-print-directory -s -C $$ch check GRADE_FLAGS=--quiet $(PASS) >&2 || true; \
	done
	@.workbook/bin/grade summary --chapters $(CHAPTERS) $(if $(FORMAT),--format $(FORMAT)) \
	  $(if $(filter solution,$(IMPL)),--impl solution)

test:
	@harness/verify.sh $(CHAPTERS)

deps:
	@harness/deps.sh sqlite3 libsodium && echo "workbook: every library is installed."

clean:
	rm -rf .workbook/build .workbook/bin
	rm -f chapters/*/compile_commands.json
