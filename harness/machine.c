/* machine.c: what a run ran on (machine.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "machine.h"
#include "pace.h"
#include "report.h"
#include "resultdir.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif

/* The first "model name" of /proc/cpuinfo, or NULL. */
static const char *cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];
	const char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += 1 + (colon[1] == ' ');
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		found = buf;
	}
	fclose(f);
	return found;
}

/* The hypervisor's CPUID signature (leaf 0x40000000), when the CPU says
 * that there is one (leaf 1, ECX bit 31): "KVMKVMKVM", "TCGTCGTCGTCG" for
 * QEMU without an accelerator, "Microsoft Hv", ...  NULL on bare metal and
 * on architectures without CPUID. */
static const char *hypervisor(char *sig)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return NULL;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	/* Signatures are padded with NULs or spaces. */
	for (int i = 11; i >= 0 && (sig[i] == ' ' || sig[i] == '\0'); i--)
		sig[i] = '\0';
	return sig[0] ? sig : "unknown";
#else
	(void)sig;
	return NULL;
#endif
}

/* What the signature means, for a reader who does not know them. */
static const char *hypervisor_name(const char *sig)
{
	static const struct {
		const char *sig, *name;
	} known[] = {
		{ "KVMKVMKVM", "kvm" },	       { "TCGTCGTCGTCG", "qemu-tcg" },
		{ "Microsoft Hv", "hyper-v" }, { "VMwareVMware", "vmware" },
		{ "XenVMMXenVMM", "xen" },     { "VBoxVBoxVBox", "virtualbox" },
		{ "bhyve bhyve", "bhyve" },    { "ACRNACRNACRN", "acrn" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(sig, known[i].sig))
			return known[i].name;
	return sig;
}

json_t *cli_machine_record(void)
{
	struct utsname u;
	struct sysinfo si;
	char model[256], sig[16];
	const char *hv = hypervisor(sig);
	int have_u = uname(&u) == 0, have_si = sysinfo(&si) == 0;
	json_t *kernel, *machine;

	kernel = json_pack("{s:o,s:o,s:o}", "release",
			   sl_json_text(have_u ? u.release : NULL), "version",
			   sl_json_text(have_u ? u.version : NULL), "arch",
			   sl_json_text(have_u ? u.machine : NULL));
	machine = json_pack(
		"{s:i,s:o,s:o,s:b,s:o,s:f}", "cpus",
		(int)sysconf(_SC_NPROCESSORS_ONLN), "cpu_model",
		sl_json_text(cpu_model(model, sizeof(model))), "memory_mib",
		have_si ? json_integer((json_int_t)si.totalram * si.mem_unit >>
				       20) :
			  json_null(),
		"virtualised", hv != NULL, "hypervisor",
		sl_json_text(hv ? hypervisor_name(hv) : NULL), "time_scale",
		sl_time_scale());
	return json_pack("{s:s,s:o,s:o}", "socklab", SL_VERSION, "kernel",
			 kernel, "machine", machine);
}

int cli_machine_write(int run_fd)
{
	FILE *f = sl_resultdir_fopen(run_fd, "run.json");
	int ret;

	if (!f)
		return -errno;
	ret = sl_json_line(f, cli_machine_record());
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	return ret;
}
