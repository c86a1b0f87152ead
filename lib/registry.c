/* registry.c: what the experiment's macros registered (registry.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "verdict.h"

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

static const char *const topics[] = {
	[SL_TOPIC_NONE] = NULL,
	[SL_TOPIC_ESTABLISHMENT] = "establishment",
	[SL_TOPIC_ACKS] = "acks",
	[SL_TOPIC_FLOW_CONTROL] = "flow-control",
	[SL_TOPIC_RST] = "rst",
	[SL_TOPIC_TEARDOWN] = "teardown",
	[SL_TOPIC_TIME_WAIT] = "time-wait",
	[SL_TOPIC_KEEPALIVE] = "keepalive",
	[SL_TOPIC_QUEUES] = "queues",
};

const char *sl_topic_name(enum sl_topic t)
{
	return (unsigned)t <= SL_TOPIC_QUEUES ? topics[t] : NULL;
}

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

/* Appends the names of the variants declared not to hold to buf. */
static void not_holding(const struct sl_registry *reg, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < reg->nvariants && len < n; i++) {
		if (reg->variant[i]->decl.holds)
			continue;
		len += snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
				reg->variant[i]->name);
	}
}

int sl_registry_check(const struct sl_registry *reg, char *why, size_t n)
{
	int holds[SL_MAX_VARIANTS], error[SL_MAX_VARIANTS], held = 0;
	enum sl_verdict declared;
	char names[256];

	if (!reg->x || !reg->id || reg->overflow || reg->nroles == 0 ||
	    reg->nvariants == 0) {
		snprintf(why, n,
			 "experiment not registered properly "
			 "(EXPERIMENT, ROLE, and 1 to %d VARIANTs needed)",
			 SL_MAX_VARIANTS);
		return -EINVAL;
	}
	for (int i = 0; i < reg->nvariants; i++) {
		holds[i] = reg->variant[i]->decl.holds;
		error[i] = 0;
		held += holds[i];
	}
	declared = sl_verdict_derive(reg->nvariants, holds, error);
	if (declared == reg->x->expected)
		return 0;
	/* Say what the declarations amount to, so the author sees which side
	 * to change: a VARIANT's .holds or EXPERIMENT's .expected. */
	not_holding(reg, names, sizeof(names));
	snprintf(why, n,
		 "definition error: EXPERIMENT says .expected = %s, "
		 "but its VARIANTs' declarations derive %s (%d of %d declared "
		 "to hold%s%s): make them agree",
		 sl_verdict_name(reg->x->expected), sl_verdict_name(declared),
		 held, reg->nvariants, names[0] ? "; .holds = false: " : "",
		 names);
	return -EINVAL;
}
