/* registry.c: what the experiment's macros registered (registry.h). */
#include <string.h>

#include "registry.h"

static struct sl_registry reg;

const struct sl_registry *sl_registry(void)
{
	return &reg;
}

void sl__register_experiment(const struct sl_experiment *x, const char *id,
			     const char *file)
{
	reg.x = x;
	reg.id = id;
	reg.file = file;
}

void sl__register_variant(const struct sl__variant_def *v)
{
	if (reg.nvariants >= SL_MAX_VARIANTS) {
		reg.overflow = 1;
		return;
	}
	reg.variant[reg.nvariants++] = v;
}

void sl__register_role(const struct sl__role_def *r)
{
	if (reg.nroles >= SL_MAX_ROLES) {
		reg.overflow = 1;
		return;
	}
	reg.role[reg.nroles++] = r;
}

void sl__register_setup(void (*fn)(struct sl_setup *s, const void *knobs))
{
	reg.setup = fn;
}

void sl__register_predict(void (*fn)(struct sl_predict *p, const void *knobs))
{
	reg.predict = fn;
}

static const char *const names[] = {
	[SL_CONFIRMED] = "CONFIRMED",
	[SL_REFUTED] = "REFUTED",
	[SL_NUANCED] = "NUANCED",
	[SL_ERROR] = "ERROR",
};

const char *sl_verdict_name(enum sl_verdict v)
{
	return (unsigned)v <= SL_ERROR ? names[v] : "?";
}

int sl_verdict_parse(const char *s, enum sl_verdict *v)
{
	for (unsigned i = 0; i <= SL_ERROR; i++) {
		if (strcmp(s, names[i]) == 0) {
			*v = i;
			return 0;
		}
	}
	return -1;
}
