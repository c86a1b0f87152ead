/* registry.h: the one experiment an executable holds, as its macros
 * registered it (socklab.h).  Registration runs in constructors, before
 * main(), in the order the file declares things. */
#ifndef SL_REGISTRY_H
#define SL_REGISTRY_H

#include <stddef.h>

#include "socklab.h"

#define SL_MAX_VARIANTS 32
#define SL_MAX_ROLES 4

struct sl_registry {
	const struct sl_experiment *x;
	const char *id;
	const char *file;
	int nvariants;
	const struct sl__variant_def *variant[SL_MAX_VARIANTS];
	int nroles;
	const struct sl__role_def *role[SL_MAX_ROLES];
	void (*setup)(struct sl_setup *s, const void *knobs);
	void (*predict)(struct sl_predict *p, const void *knobs);
	int overflow; /* more variants or roles than we keep */
};

/* The registered experiment; NULL fields when none was registered. */
const struct sl_registry *sl_registry(void);

/* Checks that the experiment is defined consistently before anything runs
 * or is described: an EXPERIMENT, at least one ROLE and one VARIANT, no
 * more than we keep, and variants whose declared expectations (.holds)
 * derive EXPERIMENT's .expected.  Returns 0, or -EINVAL with the reason in
 * why (a definition error: the experiment is broken, not a finding). */
int sl_registry_check(const struct sl_registry *reg, char *why, size_t n);

const char *sl_verdict_name(enum sl_verdict v);
/* "establishment", "acks", ... as CATALOGUE.md heads them; NULL for
 * SL_TOPIC_NONE. */
const char *sl_topic_name(enum sl_topic t);
int sl_verdict_parse(const char *s, enum sl_verdict *v);

#endif
