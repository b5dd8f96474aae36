# quiet.mk -- a failing `make check` (or any goal in QUIET_GOALS) ends
# without make's "make: *** [...] Error 1" lines; the exit status stays 1.
#
# make prints such a line for every recipe that fails, and no option turns
# that off. So a quiet goal's work (RECIPE_<goal>, one shell command) runs as
# the recipe of a small makefile that make includes and must remake first,
# where failing is not an error: the recipe writes its status into that
# makefile. make then reads itself again (as it does whenever an included
# makefile was remade), finds the status, and after a failure turns on
# question mode (-q), in which make exits 1 without a word.
#
# With several goals on the command line (or a make that ignores the -q),
# the goal fails the usual way, with make's line. Set QUIET_GOALS and the
# RECIPE_<goal> variables, then include this after ROOT is set.
QUIET_GOAL := $(if $(filter 1,$(words $(MAKECMDGOALS))),$(filter $(QUIET_GOALS),$(MAKECMDGOALS)))

ifneq ($(QUIET_GOAL),)
# make's own pid (the shell's parent): it stays the same when make reads
# itself again, so both passes name the same file.
QUIET_FILE := $(ROOT)/.workbook/run/status-$(shell echo $$PPID).mk
ifeq ($(MAKE_RESTARTS),)
$(QUIET_FILE): quiet-always
	@mkdir -p $(@D); ( $(RECIPE_$(QUIET_GOAL)) ); echo "QUIET_STATUS := $$?" > $@
.PHONY: quiet-always
quiet-always: ;
endif
-include $(QUIET_FILE)
ifneq ($(MAKE_RESTARTS),)
$(shell rm -f $(QUIET_FILE))
ifneq ($(QUIET_STATUS),0)
MAKEFLAGS += -q
endif
endif
# Runs only without a status (the recipe was killed before it could write
# one: a failure) or after a success, or where make ignores -q.
$(QUIET_GOAL):
	@exit $(or $(QUIET_STATUS),1)
$(filter-out $(QUIET_GOAL),$(QUIET_GOALS)):
	@$(RECIPE_$@)
else
$(QUIET_GOALS):
	@$(RECIPE_$@)
endif
