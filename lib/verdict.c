/* verdict.c: deriving the verdict and judging a run (verdict.h). */
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

enum sl_status sl_verdict_judge(int n, const int holds[], const int error[],
				const int declared[])
{
	int differ = 0;

	/* An error anywhere wins: a variant that could not run says nothing
	 * about the claim, so the others cannot make the run a pass or a
	 * finding. */
	if (sl_verdict_derive(n, holds, error) == SL_ERROR)
		return SL_STATUS_ERROR;
	for (int i = 0; i < n; i++)
		differ += !sl_verdict_as_declared(holds[i], error[i],
						  declared[i]);
	return differ ? SL_STATUS_FAIL : SL_STATUS_PASS;
}

const char *sl_status_name(enum sl_status s)
{
	switch (s) {
	case SL_STATUS_PASS:
		return "pass";
	case SL_STATUS_FAIL:
		return "fail";
	case SL_STATUS_ERROR:
		return "error";
	}
	return "error";
}
