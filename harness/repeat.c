/* repeat.c: the tally of `socklab run --repeat N` (repeat.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "json.h"
#include "repeat.h"
#include "report.h"

/* The verdicts a summary row can show; "?" for anything else. */
static const char *const verdict_names[] = {
	"CONFIRMED", "REFUTED", "NUANCED", "ERROR", "-", "?",
};

#define NVERDICTS (int)(sizeof(verdict_names) / sizeof(verdict_names[0]))

struct vtally {
	const char *name; /* the catalogue's */
	int held_not;	  /* held, although declared not to */
	int failed_to;	  /* did not hold, although declared to */
	int errors;	  /* could not run */
};

struct etally {
	const struct cli_exp *exp;
	int runs, passed, failed, errors, skipped;
	int verdicts[NVERDICTS];
	int nvar;
	struct vtally *var;
};

struct cli_tally {
	int n;
	struct etally *e;
};

static int selected(const char *name, const char *const *only, int nonly)
{
	if (nonly == 0)
		return 1;
	for (int i = 0; i < nonly; i++)
		if (!strcmp(only[i], name))
			return 1;
	return 0;
}

struct cli_tally *cli_tally_new(struct cli_exp *const *exps, int n,
				const char *const *only, int nonly)
{
	struct cli_tally *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->e = calloc(n ? n : 1, sizeof(*t->e));
	if (!t->e)
		goto out_free;
	t->n = n;
	for (int i = 0; i < n; i++) {
		const struct cli_exp *x = exps[i];
		struct etally *e = &t->e[i];

		e->exp = x;
		e->var = calloc(x->nvariants ? x->nvariants : 1,
				sizeof(*e->var));
		if (!e->var)
			goto out_free;
		for (int v = 0; v < x->nvariants; v++)
			if (selected(x->variants[v], only, nonly))
				e->var[e->nvar++].name = x->variants[v];
	}
	return t;

out_free:
	cli_tally_free(t);
	return NULL;
}

static struct vtally *find_variant(struct etally *e, const char *name)
{
	for (int v = 0; v < e->nvar; v++)
		if (!strcmp(e->var[v].name, name))
			return &e->var[v];
	return NULL;
}

/* Counts, per variant of a result line, an error or a behaviour other than
 * the declared one. */
static void add_variants(struct etally *e, const char *json)
{
	json_t *obj = cli_json_object(json, strlen(json)), *v;
	size_t i;

	json_array_foreach(json_object_get(obj, "variants"), i, v)
	{
		const char *name = cli_json_str(v, "name");
		struct vtally *vt = name ? find_variant(e, name) : NULL;

		if (!vt)
			continue;
		if (json_is_string(json_object_get(v, "error")))
			vt->errors++;
		else if (cli_json_get_bool(v, "as_declared") == 0 &&
			 cli_json_get_bool(v, "holds") == 1)
			vt->held_not++;
		else if (cli_json_get_bool(v, "as_declared") == 0)
			vt->failed_to++;
	}
	json_decref(obj);
}

void cli_tally_add(struct cli_tally *t, int i, const char *status,
		   const char *verdict, const char *json)
{
	struct etally *e = &t->e[i];
	int k;

	e->runs++;
	if (!strcmp(status, "pass"))
		e->passed++;
	else if (!strcmp(status, "fail"))
		e->failed++;
	else if (!strcmp(status, "skip"))
		e->skipped++;
	else
		e->errors++;
	for (k = 0; k < NVERDICTS - 1; k++)
		if (verdict && !strcmp(verdict, verdict_names[k]))
			break;
	e->verdicts[k]++;
	if (json)
		add_variants(e, json);
}

/* The verdicts seen, the most frequent first: "NUANCED x9, CONFIRMED x1". */
static void print_verdicts(FILE *f, const struct etally *e)
{
	int done[NVERDICTS] = { 0 };

	for (int shown = 0;; shown++) {
		int best = -1;

		for (int k = 0; k < NVERDICTS; k++)
			if (!done[k] && e->verdicts[k] &&
			    (best < 0 || e->verdicts[k] > e->verdicts[best]))
				best = k;
		if (best < 0)
			break;
		done[best] = 1;
		fprintf(f, "%s%s x%d", shown ? ", " : "", verdict_names[best],
			e->verdicts[best]);
	}
}

void cli_tally_print(FILE *f, const struct cli_tally *t)
{
	int idw = 2, all = 0, runs = 0;

	for (int i = 0; i < t->n; i++) {
		int w = (int)strlen(t->e[i].exp->id);

		idw = w > idw ? w : idw;
		runs = t->e[i].runs > runs ? t->e[i].runs : runs;
	}
	fprintf(f, "\nover %d run%s:\n%-*s  %7s  %s\n", runs,
		runs == 1 ? "" : "s", idw, "id", "passed", "verdicts");
	for (int i = 0; i < t->n; i++) {
		const struct etally *e = &t->e[i];
		char passed[32];

		snprintf(passed, sizeof(passed), "%d/%d", e->passed, e->runs);
		fprintf(f, "%-*s  %7s  ", idw, e->exp->id, passed);
		print_verdicts(f, e);
		fputc('\n', f);
		all += e->runs && e->passed == e->runs;
		for (int v = 0; v < e->nvar; v++) {
			const struct vtally *vt = &e->var[v];
			const char *sep = "";

			if (!vt->held_not && !vt->failed_to && !vt->errors)
				continue;
			fprintf(f, "  %s:", vt->name);
			if (vt->held_not) {
				fprintf(f,
					" held although declared not to "
					"%d/%d",
					vt->held_not, e->runs);
				sep = ";";
			}
			if (vt->failed_to) {
				fprintf(f,
					"%s did not hold although declared "
					"to %d/%d",
					sep, vt->failed_to, e->runs);
				sep = ";";
			}
			if (vt->errors)
				fprintf(f, "%s could not run %d/%d", sep,
					vt->errors, e->runs);
			fputc('\n', f);
		}
	}
	fprintf(f, "%d of %d experiment%s passed every run\n", all, t->n,
		t->n == 1 ? "" : "s");
}

/* One experiment's counts: {"id":..,"repeat":{"runs":..,...}}. */
static json_t *tally_object(const struct etally *e)
{
	json_t *verdicts = json_object(), *vars = json_array();

	for (int k = 0; k < NVERDICTS; k++)
		if (e->verdicts[k])
			json_object_set_new(verdicts, verdict_names[k],
					    json_integer(e->verdicts[k]));
	for (int v = 0; v < e->nvar; v++) {
		const struct vtally *vt = &e->var[v];

		json_array_append_new(
			vars,
			json_pack("{s:o,s:i,s:i,s:i,s:i}", "name",
				  sl_json_text(vt->name), "not_as_declared",
				  vt->held_not + vt->failed_to,
				  "held_declared_not_to", vt->held_not,
				  "failed_declared_to", vt->failed_to, "errors",
				  vt->errors));
	}
	return json_pack("{s:o,s:{s:i,s:i,s:i,s:i,s:i,s:o,s:o}}", "id",
			 sl_json_text(e->exp->id), "repeat", "runs", e->runs,
			 "passed", e->passed, "failed", e->failed, "errors",
			 e->errors, "skipped", e->skipped, "verdicts", verdicts,
			 "variants", vars);
}

void cli_tally_json(FILE *f, const struct cli_tally *t)
{
	for (int i = 0; i < t->n; i++)
		sl_json_line(f, tally_object(&t->e[i]));
	fflush(f);
}

int cli_tally_all_passed(const struct cli_tally *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->e[i].passed != t->e[i].runs)
			return 0;
	return 1;
}

void cli_tally_free(struct cli_tally *t)
{
	if (!t)
		return;
	for (int i = 0; t->e && i < t->n; i++)
		free(t->e[i].var);
	free(t->e);
	free(t);
}
