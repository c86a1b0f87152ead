/* slot.h: run slots, the numbers that keep concurrent runs apart.
 *
 * A run owns slot S (0..SL_SLOTS-1) by holding an flock on
 * SL_RUN_DIR/slot-S.lock for its whole life; the slot gives its namespaces
 * their names (socklab-S-client, ...) and its addresses (198.18.S.x), so no
 * two live runs share either.  The kernel drops the lock when the owner
 * dies, even by SIGKILL, and a killed run cannot unlink its lock file: a
 * lock file that exists while nobody holds it is what says "a run of
 * socklab had this slot and died" (sweep.h acts on that, and leaves the
 * file), and a run that ends normally unlinks its own lock file last.  A slot of `socklab run
 * --keep` also carries a mark, slot-S.kept, that keeps it from being
 * claimed or swept until `socklab clean`; the mark holds the real path of
 * the results folder of the variant that kept it, which is how `socklab
 * clean <run>` finds the slots of one run (and only those: a slot that
 * was given back and kept again by another run names that one).
 */
#ifndef SL_SLOT_H
#define SL_SLOT_H

#include <stddef.h>

struct sl_err;

#define SL_SLOTS 256
#define SL_RUN_DIR "/run/socklab"

/* Creates SL_RUN_DIR if needed.  Returns 0 or -errno with a reason in e. */
int sl_slot_dir(struct sl_err *e);

/* Claims a free slot that carries no kept mark: *slot is its number and
 * the return value the locked file's descriptor (O_CLOEXEC), or -errno
 * with a reason in e. */
int sl_slot_claim(int *slot, struct sl_err *e);

/* Takes the lock of slot's existing lock file without waiting, never
 * creating one.  Returns the locked descriptor, -ENOENT when there is no
 * lock file (no run of socklab had the slot, or its run ended normally),
 * -EAGAIN when a live process holds it, or another -errno. */
int sl_slot_lock_existing(int slot);

/* Gives a slot back: unlinks its lock file while fd still holds the lock
 * (so nobody else holds a lock on the inode that loses its name), then
 * closes fd. */
void sl_slot_release(int slot, int fd);

/* Whether slot carries a kept mark. */
int sl_slot_is_kept(int slot);

/* Puts a kept mark on slot, naming its owner (a real path; "" for none).
 * Returns 0 or -errno with a reason in e. */
int sl_slot_keep(int slot, const char *owner, struct sl_err *e);

/* The owner slot's kept mark names, into buf: returns its length, 0 for a
 * mark that names none, -ENOENT when the slot carries no mark, -ENAMETOOLONG
 * when it does not fit, or another -errno. */
int sl_slot_kept_owner(int slot, char *buf, size_t n);

/* Removes slot's kept mark.  Returns 0 or -errno. */
int sl_slot_unkeep(int slot);

/* Removes every kept mark.  Returns the number removed. */
int sl_slot_unkeep_all(void);

/* Calls fn(slot, arg) for every slot with a kept mark, as
 * sl_slot_each_lockfile() does for lock files. */
int sl_slot_each_kept(int (*fn)(int slot, void *arg), void *arg);

/* Calls fn(slot, arg) for every slot that has a lock file, in no
 * particular order; stops at the first non-zero return and returns it.
 * Returns -errno when SL_RUN_DIR cannot be read (0 when it does not
 * exist). */
int sl_slot_each_lockfile(int (*fn)(int slot, void *arg), void *arg);

#endif
