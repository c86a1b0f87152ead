/* trace_instance.h: tracefs, and a run's private instance in it, on
 * libtracefs.
 *
 * Each run gets instances/socklab-<slot>, with its own ring buffer, its
 * clock set to "mono" (CLOCK_MONOTONIC, the timeline's clock: clock.h),
 * its buffer_percent at 0 (poll() wakes at every event) and only the
 * tracepoints of kevent.h enabled, each behind an address filter.  Nothing
 * of the machine's own tracing is touched: no file at the top of tracefs is
 * ever written.  tracefs itself is mounted at /sys/kernel/tracing when it
 * is not mounted yet.  An instance whose slot lock nobody holds is a
 * leftover that the next run and `socklab clean` remove.
 */
#ifndef SL_TRACE_INSTANCE_H
#define SL_TRACE_INSTANCE_H

#include <stddef.h>
#include <stdio.h>

struct sl_err;
struct tracefs_instance;

#define SL_TRACEFS "/sys/kernel/tracing"
#define SL_TRACE_INSTANCE_PREFIX "socklab-"

/* Where tracefs is: $SOCKLAB_TRACEFS when set (tests point it elsewhere to
 * play a machine without tracefs; "off" turns kernel events off, to
 * measure what they cost), else SL_TRACEFS. */
const char *sl_trace_root(void);

/* 1 when path is a mounted tracefs. */
int sl_trace_is_tracefs(const char *path);

/* Creates instance socklab-<slot> under root (a mounted tracefs), in
 * place of a leftover of the same name (the caller holds the slot's lock),
 * with the mono clock and buffer_percent 0.  On failure *ip may still hold
 * an instance to remove.  Returns 0 or -errno with a reason in e. */
int sl_trace_instance_create(struct tracefs_instance **ip, const char *root,
			     int slot, struct sl_err *e);

/* Enables tracepoint kev (kevent.h) in the instance, filter first (NULL
 * or "": none; a filter the kernel refuses leaves the event unfiltered).
 * Returns 0 or -errno. */
int sl_trace_instance_enable(struct tracefs_instance *in, int kev,
			     const char *filter);

/* The text of tracepoint kev's format file and of events/header_page,
 * *len bytes (free() it), or NULL when the kernel has none. */
char *sl_trace_instance_format(struct tracefs_instance *in, int kev, int *len);
char *sl_trace_instance_header_page(int *len);

/* The instance's sub-buffer size in bytes when the kernel says it
 * (buffer_subbuf_size_kb, 6.8 and later), else 0. */
int sl_trace_instance_subbuf_size(struct tracefs_instance *in);

/* The number of per-CPU buffers, or -errno. */
int sl_trace_instance_ncpus(struct tracefs_instance *in);

/* per_cpu/cpu<cpu>/trace_pipe_raw, opened non-blocking: an fd or -errno. */
int sl_trace_instance_open_cpu(struct tracefs_instance *in, int cpu);

/* Stops recording and removes the instance, then frees it and sets *ip to
 * NULL.  Every file of it must be closed first, in every process: the
 * kernel refuses (EBUSY) while one is open; *ip then stays for a later
 * try.  Returns 0 or -errno. */
int sl_trace_instance_remove(struct tracefs_instance **ip);

/* Removes instance socklab-<slot> if there is one; the caller holds the
 * slot's lock.  Writes one line to log (may be NULL) when it did.  Returns
 * 1 when removed, 0 when there was none, -errno. */
int sl_trace_remove_instance(int slot, FILE *log);

/* What `socklab doctor` says about kernel events on this machine, in
 * detail: tracefs mounted or mountable, the six tracepoints present, a
 * private instance with the mono clock tried for real (as
 * socklab-doctor-<pid>, removed at once); "permission denied" when tracefs
 * is there but closed to this user.  Returns 1 when runs will record
 * kernel events. */
int sl_trace_doctor(char *detail, size_t n);

/* Removes socklab-doctor-<pid> instances whose doctor is gone.  Returns the
 * number removed. */
int sl_trace_clean_doctors(FILE *log);

#endif
