/* machine.h: what a run ran on, written as run.json into its folder.
 *
 * A verdict is about one kernel on one machine: a run read later, or
 * compared with another (`socklab diff`), must say which.  run.json holds
 * socklab's version, the kernel (release, build, architecture), and the
 * machine: online CPUs, memory, and whether it is virtualised and by what,
 * from the hypervisor's own CPUID signature (TCG or KVM for a QEMU guest),
 * which is what decides how far timing can be trusted.  Each variant's
 * TCP sysctls and fault backends are in its experiment's verdict.json.
 */
#ifndef SL_CLI_MACHINE_H
#define SL_CLI_MACHINE_H

#include <jansson.h>

/* The record, as a new JSON object (NULL when memory ran out). */
json_t *cli_machine_record(void);

/* Writes run.json into the run's folder.  Returns 0 or -errno. */
int cli_machine_write(int run_fd);

#endif
