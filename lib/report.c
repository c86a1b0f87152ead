/* report.c: verdict.json, the JSON line and timeline.txt (report.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

#include "pace.h"
#include "report.h"
#include "vm.h"
#include "resultdir.h"

/* JSON text is UTF-8: a string that is not (a payload, a name from the
 * kernel) has its non-ASCII bytes written as '?' rather than make the whole
 * line unreadable. */
json_t *sl_json_text(const char *s)
{
	json_t *v;
	char *copy;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v || !(copy = strdup(s)))
		return v;
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

static json_t *json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int sl_json_line(FILE *f, json_t *v)
{
	int ret = v ? json_dumpf(v, f,
				 JSON_COMPACT | JSON_ENCODE_ANY |
					 JSON_REAL_PRECISION(6)) :
		      -1;

	json_decref(v);
	fputc('\n', f);
	return ret < 0 ? -EIO : 0;
}

const char *sl_report_status(const struct sl_report *r)
{
	return sl_status_name(r->status);
}

/* Whether variant v behaved as it declared. */
static int as_declared(const struct sl_report *r, int v)
{
	return sl_verdict_as_declared(r->out[v].holds, r->out[v].error,
				      r->reg->variant[v]->decl.holds);
}

void sl_report_describe(FILE *f, const struct sl_registry *reg)
{
	json_t *vars = json_array(), *fams = json_array();

	for (int i = 0; i < reg->nvariants; i++)
		json_array_append_new(vars,
				      sl_json_text(reg->variant[i]->name));
	/* The address families it runs on: `socklab run --family` skips
	 * the others with the reason. */
	if (reg->x->families != 6)
		json_array_append_new(fams, json_integer(4));
	if (reg->x->families != 4)
		json_array_append_new(fams, json_integer(6));
	sl_json_line(f,
		     json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:o,s:o}", "id",
			       sl_json_text(reg->id), "claim",
			       sl_json_text(reg->x->claim), "expected",
			       sl_json_text(sl_verdict_name(reg->x->expected)),
			       "belief", sl_json_text(reg->x->belief), "topic",
			       sl_json_text(sl_topic_name(reg->x->topic)),
			       "timeout_s",
			       sl_time_scaled_s(reg->x->timeout_s > 0 ?
							reg->x->timeout_s :
							SL_DEFAULT_TIMEOUT_S) +
				       10,
			       "variants", vars, "families", fams));
}

static json_t *json_prediction(const struct sl_result *res)
{
	return json_pack("{s:o,s:b,s:o,s:o}", "what", sl_json_text(res->what),
			 "ok", res->ok && !res->skipped[0], "skipped",
			 sl_json_text(res->skipped[0] ? res->skipped : NULL),
			 "evidence", sl_json_text(res->evidence));
}

/* The counters that moved, per host, by nstat name:
 * {"server":{"TcpExtTCPAbortOnClose":1,...},...} */
static json_t *json_counters(const struct sl_predict *p)
{
	json_t *all = json_object();

	for (int i = 0; i < p->ncounters; i++) {
		const char *host = p->host[p->counter[i].host];
		json_t *h = json_object_get(all, host);

		if (!h) {
			h = json_object();
			json_object_set_new(all, host, h);
		}
		json_object_set_new(h, p->counter[i].name,
				    json_integer(p->counter[i].value));
	}
	return all;
}

static json_t *json_faults(const struct sl_outcome *o)
{
	json_t *a = json_array();

	/* With the backend that served each: a test can check that it ran,
	 * never assume it. */
	for (int i = 0; i < o->nfaults; i++)
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:o,s:b}", "kind",
				     sl_json_text(o->fault[i].kind), "backend",
				     sl_json_text(o->fault[i].backend), "what",
				     sl_json_text(o->fault[i].what), "lifted",
				     o->fault[i].lifted));
	return a;
}

/* The counters that moved, as nstat prints them, a line per host wrapped
 * at about 78 columns. */
static void text_counters(FILE *f, const struct sl_predict *p)
{
	if (p->ncounters == 0)
		return;
	fprintf(f, "  kernel counters that moved (nstat, over the run):\n");
	for (int h = 0; h < SL_TL_MAX_HOSTS; h++) {
		int col = 0;

		for (int i = 0; i < p->ncounters; i++) {
			char item[96];
			int len;

			if (p->counter[i].host != h)
				continue;
			len = snprintf(item, sizeof(item), "%s %lld",
				       p->counter[i].name,
				       (long long)p->counter[i].value);
			if (col == 0)
				col = fprintf(f, "    %-6s ", p->host[h]);
			else if (col + 2 + len > 78)
				col = fprintf(f, "\n    %-6s ", "") - 1;
			else
				col += fprintf(f, ", ");
			col += fprintf(f, "%s", item);
		}
		if (col)
			fputc('\n', f);
	}
}

/* {"client":{"net.ipv4.tcp_fin_timeout":"60",...},"server":{...}} */
static json_t *json_sysctls(const struct sl_outcome *o)
{
	json_t *all = json_object();

	for (int i = 0; i < o->nsysctls; i++) {
		const char *host = o->sysctl[i].host;
		json_t *h = json_object_get(all, host);

		if (!h) {
			h = json_object();
			json_object_set_new(all, host, h);
		}
		json_object_set_new(h, o->sysctl[i].key,
				    sl_json_text(o->sysctl[i].value));
	}
	return all;
}

/* One variant: what it did against what it declared, its predictions,
 * faults, and the kernel's side (why its events are missing, null when they
 * are not, and the counters that moved). */
static json_t *json_variant(const struct sl_report *r, int v)
{
	const struct sl_outcome *o = &r->out[v];
	json_t *preds = json_array();

	for (int i = 0; i < o->pred.nresults; i++)
		json_array_append_new(preds,
				      json_prediction(&o->pred.result[i]));
	return json_pack(
		"{s:o,s:b,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name",
		sl_json_text(r->reg->variant[v]->name), "holds",
		o->holds && !o->error, "expected_holds",
		r->reg->variant[v]->decl.holds, "as_declared",
		o->error ? json_null() : json_boolean(as_declared(r, v)),
		"error", sl_json_text(o->error ? o->why : NULL), "duration_s",
		json_num(o->duration_s), "predictions", preds, "faults",
		json_faults(o), "kernel_note",
		sl_json_text(o->pred.kernel_note[0] ? o->pred.kernel_note :
						      NULL),
		"counters", json_counters(&o->pred), "sysctls",
		json_sysctls(o));
}

/* "<variant>.<name>":{"value":..,"unit":..} for every measurement. */
static json_t *json_measured(const struct sl_report *r)
{
	json_t *m = json_object();

	for (int v = 0; v < r->n; v++) {
		const struct sl_predict *p = &r->out[v].pred;

		for (int i = 0; i < p->nmeasures; i++) {
			char name[160];

			snprintf(name, sizeof(name), "%s.%s",
				 r->reg->variant[v]->name, p->measure[i].name);
			json_object_set_new(
				m, name,
				json_pack("{s:o,s:o}", "value",
					  json_num(p->measure[i].value), "unit",
					  sl_json_text(p->measure[i].unit)));
		}
	}
	return m;
}

/* The kernel that gave the verdict (uname -r), so that a verdict read
 * later says which kernel it was true of. */
static const char *kernel_release(void)
{
	static struct utsname u;

	return uname(&u) == 0 ? u.release : NULL;
}

/* Whether any variant ran with --step, and how long they were paused in
 * all. */
static int stepped(const struct sl_report *r, double *paused)
{
	int any = 0;

	*paused = 0;
	for (int v = 0; v < r->n; v++) {
		any |= r->out[v].stepped;
		*paused += r->out[v].paused_s;
	}
	return any;
}

/* In a guest that `socklab vm` booted, the verdict says so, and on which
 * accelerator (its timings are a virtual machine's): "guest":
 * {"vmm":"qemu","accel":"tcg"}; on a machine of its own, "guest": null. */
static json_t *with_guest(json_t *o, int live)
{
	const char *accel = sl_vm_guest_accel();

	/* A recording judged again (its kernel recorded) says nothing of
	 * where it ran: this process's environment is not the run's. */
	if (o && live)
		json_object_set_new(o, "guest",
				    accel ? json_pack("{s:s,s:s}", "vmm",
						      "qemu", "accel", accel) :
					    json_null());
	return o;
}

void sl_report_json(FILE *f, const struct sl_report *r)
{
	json_t *vars = json_array(), *o;
	double harness = 0, paused;

	for (int v = 0; v < r->n; v++) {
		if (r->out[v].harness_s > harness)
			harness = r->out[v].harness_s;
		json_array_append_new(vars, json_variant(r, v));
	}
	o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
		      sl_json_text(r->reg->id), "claim",
		      sl_json_text(r->reg->x->claim), "verdict",
		      sl_json_text(sl_verdict_name(r->verdict)), "expected",
		      sl_json_text(sl_verdict_name(r->reg->x->expected)),
		      "kernel",
		      sl_json_text(!r->kernel	? kernel_release() :
				   r->kernel[0] ? r->kernel :
						  NULL),
		      "status", sl_json_text(sl_report_status(r)), "duration_s",
		      json_num(r->duration_s), "harness_s", json_num(harness),
		      "results", sl_json_text(r->dir), "variants", vars,
		      "measured", json_measured(r));
	if (o && r->nnot_run) {
		json_t *nr = json_array();

		for (int i = 0; i < r->nnot_run; i++)
			json_array_append_new(
				nr,
				json_pack("{s:o,s:o}", "name",
					  sl_json_text(r->not_run[i]), "why",
					  sl_json_text(r->not_run_why[i])));
		json_object_set_new(o, "not_run", nr);
	}
	/* A stepped run's timings include a learner's pauses: said in the
	 * result, so that nobody compares it with an unstepped one. */
	if (o && stepped(r, &paused)) {
		json_object_set_new(o, "stepped", json_true());
		json_object_set_new(o, "paused_s", json_num(paused));
	}
	sl_json_line(f, with_guest(o, !r->kernel));
}

/* Copies file name of the variant's folder (none of it a link) to f,
 * after a blank line, when it is there. */
static void text_file(FILE *f, const struct sl_report *r, const char *variant,
		      const char *name)
{
	char path[4096], line[1024];
	FILE *in;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", variant, name);
	fd = r->dirfd >= 0 ? sl_resultdir_read(r->dirfd, path) : -EBADF;
	in = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!in) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fputc('\n', f);
	while (fgets(line, sizeof(line), in))
		fputs(line, f);
	fclose(in);
}

/* One variant: whether it held as declared, faults, predictions with their
 * evidence, measurements, counters, then its ladder and timeline. */
static void text_variant(FILE *f, const struct sl_report *r, int v)
{
	const struct sl_outcome *o = &r->out[v];
	const char *name = r->reg->variant[v]->name;

	if (o->error)
		fprintf(f, "== variant %s: ERROR ==\n  error: %s\n", name,
			o->why);
	else if (as_declared(r, v))
		fprintf(f, "== variant %s: %s, as declared ==\n", name,
			o->holds ? "holds" : "does not hold");
	else
		fprintf(f,
			"== variant %s: %s, NOT AS DECLARED "
			"(declared %s) ==\n",
			name, o->holds ? "holds" : "does not hold",
			o->holds ? "not to hold" : "to hold");
	for (int i = 0; i < o->nfaults; i++)
		fprintf(f, "  %s (%s): %s\n", o->fault[i].kind,
			o->fault[i].backend, o->fault[i].what);
	for (int i = 0; i < o->pred.nresults; i++) {
		const struct sl_result *res = &o->pred.result[i];

		fprintf(f, "  [%s] %s\n",
			res->skipped[0] ? "skip" :
			res->ok		? " ok " :
					  "FAIL",
			res->what);
		if (res->skipped[0])
			fprintf(f, "         skipped: %s\n", res->skipped);
		else if (res->evidence[0])
			fprintf(f, "         %s\n", res->evidence);
	}
	for (int i = 0; i < o->pred.nmeasures; i++)
		fprintf(f, "  measured %s = %.3f %s\n", o->pred.measure[i].name,
			o->pred.measure[i].value, o->pred.measure[i].unit);
	text_counters(f, &o->pred);
	/* The ladder first, for the shape of the exchange, then the timeline
	 * with every detail. */
	text_file(f, r, name, "ladder.txt");
	text_file(f, r, name, "timeline.txt");
	fputc('\n', f);
}

void sl_report_text(FILE *f, const struct sl_report *r)
{
	double paused;

	fprintf(f, "%s: %s\n", r->reg->id, r->reg->x->claim);
	fprintf(f, "verdict %s (expected %s): %s\n",
		sl_verdict_name(r->verdict),
		sl_verdict_name(r->reg->x->expected), sl_report_status(r));
	/* A failure is a variant that did not do what it declared, whatever
	 * the verdict: name them first. */
	for (int v = 0; v < r->n; v++) {
		if (r->out[v].error || as_declared(r, v))
			continue;
		fprintf(f, "not as declared: %s %s\n", r->reg->variant[v]->name,
			r->out[v].holds ? "holds, but is declared not to hold" :
					  "does not hold, but is declared to");
	}
	for (int i = 0; i < r->nnot_run; i++)
		fprintf(f, "not run: %s: %s\n", r->not_run[i],
			r->not_run_why[i]);
	if (stepped(r, &paused))
		fprintf(f,
			"stepped: paused %.1f s at marks (--step); the kernel's "
			"timers ran on meanwhile, so timing predictions may "
			"fail for it: not comparable with an unstepped run\n",
			paused);
	fputc('\n', f);
	/* Said once, not once per prediction it affects. */
	for (int v = 0; v < r->n; v++) {
		if (r->out[v].pred.kernel_note[0]) {
			fprintf(f, "note: %s\n\n", r->out[v].pred.kernel_note);
			break;
		}
	}
	for (int v = 0; v < r->n; v++)
		text_variant(f, r, v);
}
