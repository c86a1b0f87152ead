/* verdict.h: the verdict on a claim, derived from its variants, never
 * declared by an experiment.
 *
 *   every variant holds		CONFIRMED
 *   no variant holds			REFUTED
 *   some hold, some do not		NUANCED
 *   any variant could not run		ERROR (no verdict on the claim)
 */
#ifndef SL_VERDICT_H
#define SL_VERDICT_H

#include "socklab.h"

enum sl_verdict sl_verdict_derive(int n, const int holds[], const int error[]);

#endif
