/*
 * cmd/steps.c — the one table of steps: every subcommand that is a step,
 * by the name a user types ("cat", "score zipfit"). cmd/main.c dispatches
 * through it and `winnow run` resolves a recipe's steps through it, so a
 * step exists for both or for neither.
 */
#include "cmd/common.h"

#define WN_STEP(var) extern const wn_step var;
#include "cmd/steps.list"
#undef WN_STEP

const wn_step *const wn_steps[] = {
#define WN_STEP(var) &var,
#include "cmd/steps.list"
#undef WN_STEP
	NULL,
};
