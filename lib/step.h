/* step.h: `socklab run --step`, the run process's side.
 *
 * With --step, every mark is a pause: the role that reaches it asks the
 * run process (SL_BOARD_OP_PAUSE, board.h), whose fault server calls
 * sl_step_pause().  That takes each host's sockets through sock_diag, as
 * `ss -tanoi` would show them, sends the lot to the CLI over the step
 * channel, and waits for the CLI to say "go on" (the learner pressed
 * Enter).  Only the CLI speaks to the terminal: the experiment runs in a
 * process group of its own, which the terminal would stop (SIGTTIN) if it
 * read from it.
 *
 * The channel is a SOCK_SEQPACKET socket: each message one pause, whole.
 *   run -> CLI:  the text to show, ending in a newline
 *   CLI -> run:  one byte, SL_STEP_GO
 *
 * The special problem of time: a pause stops the roles, not the kernel.
 * The run's deadlines move by the time spent paused (sl_board_deadline()),
 * so no wait times out while the learner reads; the kernel's timers (an
 * RTO, a keepalive, TIME-WAIT's 60 s) run on, and a timing prediction
 * that spans a pause may fail for it.  The mark is stamped when the role
 * goes on, so predictions timed from a mark measure what follows it; a
 * stepped run's results say they were stepped (and for how long), and are
 * not comparable with an unstepped run's.
 */
#ifndef SL_STEP_H
#define SL_STEP_H

#include <stddef.h>

struct sl_board;
struct sl_err;
struct sl_topology;

#define SL_STEP_GO 'g'
/* The largest pause text: each host's sockets, cut at SL_STEP_MAX_SOCKS. */
#define SL_STEP_MSG_MAX 16384
#define SL_STEP_MAX_SOCKS 24

/* Pauses the run at mark, reached by host's role: writes the hosts'
 * sockets to b->step_fd and waits for SL_STEP_GO, or for SIGINT/SIGTERM
 * (blocked by the caller, and left pending for it).  Moves the run's
 * deadlines by the time paused and notes the pause on the timeline.
 * Returns 0, -EINTR on a signal, or -errno (the channel is gone: the
 * run goes on without pausing again) with a reason in e. */
int sl_step_pause(const struct sl_topology *t, struct sl_board *b, int host,
		  const char *mark, const char *variant, struct sl_err *e);

/* The text of one pause into buf (what sl_step_pause() sends): the mark,
 * the role, and every host's sockets as `ss -tanoi` lists them.  Returns
 * the length. */
size_t sl_step_describe(const struct sl_topology *t, int host, const char *mark,
			const char *variant, char *buf, size_t n);

/* While a pause lasts, SL_RUN_DIR/slot-S.paused says so to `socklab
 * shell` (which enters a paused run's hosts): the run process's pid, then
 * what is paused ("rst-refused/nothing_on_port: client reached mark
 * 'connecting'").  Whether slot is paused now: 1 with that text in what,
 * else 0.  A mark left by a killed run names a dead process, and says
 * no. */
int sl_step_paused(int slot, char *what, size_t n);

/* The mark's file, for its time (the newest pause). */
void sl_step_paused_path(char *buf, size_t n, int slot);

#endif
