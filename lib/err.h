/* err.h: one readable reason per failure, threaded through a run.
 *
 * Library functions return 0 or -errno and, when they fail, write a sentence
 * naming the operation and the object into a struct sl_err ("add veth eth0 in
 * socklab-3-client: File exists").  The caller decides what to do with it: a
 * run turns it into an ERROR verdict with that reason; nothing in lib/ exits
 * the process or prints on its own.
 */
#ifndef SL_ERR_H
#define SL_ERR_H

struct sl_err {
	char msg[512];
};

/* Formats "<fmt>: <strerror(err)>" into e (e may be NULL); returns -err.
 * err is a positive errno value; 0 leaves out the strerror part and
 * returns -EIO so that callers can still propagate a failure. */
int sl_errf(struct sl_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
