/* cleanup.h: the undo stack of a run.
 *
 * Every resource registers its undo at the moment it is acquired (a
 * namespace, a capture, a child process), so every exit path (normal end,
 * failed setup, role timeout, SIGINT/SIGTERM) undoes exactly what was done,
 * newest first.  Signals never run undo functions themselves: they only stop
 * the run's wait, and the run then unwinds this stack from its normal code.
 */
#ifndef SL_CLEANUP_H
#define SL_CLEANUP_H

typedef void (*sl_undo_fn)(void *arg);

#define SL_CLEANUP_MAX 64

struct sl_cleanup {
	int n;
	struct {
		sl_undo_fn fn;
		void *arg;
		const char *what;
	} step[SL_CLEANUP_MAX];
};

/* Registers fn(arg); returns 0, or -ENOSPC when the stack is full (the
 * caller must then undo the resource itself). */
int sl_cleanup_push(struct sl_cleanup *c, sl_undo_fn fn, void *arg,
		    const char *what);

/* Runs and forgets every registered undo, newest first. */
void sl_cleanup_run(struct sl_cleanup *c);

#endif
