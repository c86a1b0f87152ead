/* faultserver.c: the run process's loop while the roles run
 * (faultserver.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "board.h"
#include "clock.h"
#include "err.h"
#include "faults.h"
#include "faultserver.h"
#include "step.h"

void sl_faultserver_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

int sl_faultserver_serve(struct sl_faultserver *fs)
{
	struct sl_board *b = fs->ctx.board;
	struct sl_board_req req;
	int slot, n = 0;

	while ((slot = sl_board_take_request(b, &req)) >= 0) {
		struct sl_err e = { "" };
		int ret;

		if (req.op == SL_BOARD_OP_REBOOT) {
			ret = sl_faults_reboot(&fs->ctx, req.host, &e);
		} else if (req.op == SL_BOARD_OP_PAUSE) {
			ret = sl_step_pause(fs->ctx.topo, b, req.host, req.name,
					    fs->variant ? fs->variant : "?",
					    &e);
			/* Said here, since the role goes on whatever the
			 * answer: the run's stderr.txt keeps it. */
			if (ret < 0 && ret != -EINTR)
				fprintf(stderr, "step: %s\n", e.msg);
		} else
			ret = sl_errf(&e, EINVAL,
				      "serve request: unknown "
				      "operation %d",
				      req.op);
		sl_board_answer(b, slot, ret, e.msg);
		n++;
	}
	return n;
}

int sl_faultserver_run(struct sl_faultserver *fs, int64_t deadline)
{
	sigset_t set;

	sl_faultserver_signals(&set);
	for (;;) {
		int64_t left;
		struct timespec ts;
		int ret, sig;

		sl_faultserver_serve(fs);
		/* After serving: a pause just served has moved it. */
		left = sl_board_deadline(fs->ctx.board, deadline) - sl_now();
		ret = fs->settled(fs->arg);
		if (ret)
			return ret < 0 ? ret : 0;
		if (left <= 0)
			return -ETIMEDOUT;
		ts.tv_sec = left / SL_NS_PER_SEC;
		ts.tv_nsec = left % SL_NS_PER_SEC;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			return -EINTR;
	}
}
