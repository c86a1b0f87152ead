/* verdict.c: deriving the verdict (verdict.h). */
#include "verdict.h"

enum sl_verdict sl_verdict_derive(int n, const int holds[], const int error[])
{
	int held = 0;

	if (n <= 0)
		return SL_ERROR;
	for (int i = 0; i < n; i++) {
		if (error[i])
			return SL_ERROR;
		held += holds[i] != 0;
	}
	if (held == n)
		return SL_CONFIRMED;
	return held == 0 ? SL_REFUTED : SL_NUANCED;
}
