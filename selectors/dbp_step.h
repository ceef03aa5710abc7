/*
 * selectors/dbp_step.h — `select dbp` (issue 20): Density-Based Pruning
 * over clustered records. The options struct and entry points are declared
 * with the prototypes step they share their input with
 * (selectors/prototypes_step.h); the numbers are selectors/dbp.h.
 */
#ifndef WN_SELECTORS_DBP_STEP_H
#define WN_SELECTORS_DBP_STEP_H

#include "selectors/prototypes_step.h"

#endif
