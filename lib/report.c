/* report.c: verdict.json, the JSON line and timeline.txt (report.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "resultdir.h"

void sl_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
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
	fputs("{\"id\":", f);
	sl_json_string(f, reg->id);
	fputs(",\"claim\":", f);
	sl_json_string(f, reg->x->claim);
	fputs(",\"expected\":", f);
	sl_json_string(f, sl_verdict_name(reg->x->expected));
	fprintf(f, ",\"timeout_s\":%d,\"variants\":[",
		(reg->x->timeout_s > 0 ? reg->x->timeout_s : 20) + 10);
	for (int i = 0; i < reg->nvariants; i++) {
		fputs(i ? "," : "", f);
		sl_json_string(f, reg->variant[i]->name);
	}
	fputs("]}\n", f);
}

static void json_prediction(FILE *f, const struct sl_result *res)
{
	fputs("{\"what\":", f);
	sl_json_string(f, res->what);
	fprintf(f, ",\"ok\":%s,\"skipped\":",
		res->ok && !res->skipped[0] ? "true" : "false");
	sl_json_string(f, res->skipped[0] ? res->skipped : NULL);
	fputs(",\"evidence\":", f);
	sl_json_string(f, res->evidence);
	fputc('}', f);
}

/* The kernel's side of a variant: why its events are missing (null when
 * they are not), and the counters that moved, per host, by nstat name:
 * "counters":{"server":{"TcpExtTCPAbortOnClose":1,...},...} */
static void json_kernel(FILE *f, const struct sl_predict *p)
{
	fputs(",\"kernel_note\":", f);
	sl_json_string(f, p->kernel_note[0] ? p->kernel_note : NULL);
	fputs(",\"counters\":{", f);
	for (int h = 0, firsth = 1; h < SL_TL_MAX_HOSTS; h++) {
		int firstc = 1;

		for (int i = 0; i < p->ncounters; i++) {
			if (p->counter[i].host != h)
				continue;
			if (firstc) {
				fputs(firsth ? "" : ",", f);
				sl_json_string(f, p->host[h]);
				fputs(":{", f);
				firsth = 0;
			}
			fputs(firstc ? "" : ",", f);
			firstc = 0;
			sl_json_string(f, p->counter[i].name);
			fprintf(f, ":%lld", (long long)p->counter[i].value);
		}
		if (!firstc)
			fputc('}', f);
	}
	fputc('}', f);
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

void sl_report_json(FILE *f, const struct sl_report *r)
{
	double harness = 0;
	int first = 1;

	for (int v = 0; v < r->n; v++)
		if (r->out[v].harness_s > harness)
			harness = r->out[v].harness_s;
	fputs("{\"id\":", f);
	sl_json_string(f, r->reg->id);
	fputs(",\"claim\":", f);
	sl_json_string(f, r->reg->x->claim);
	fputs(",\"verdict\":", f);
	sl_json_string(f, sl_verdict_name(r->verdict));
	fputs(",\"expected\":", f);
	sl_json_string(f, sl_verdict_name(r->reg->x->expected));
	fputs(",\"status\":", f);
	sl_json_string(f, sl_report_status(r));
	fputs(",\"duration_s\":", f);
	json_number(f, r->duration_s);
	fputs(",\"harness_s\":", f);
	json_number(f, harness);
	fputs(",\"results\":", f);
	sl_json_string(f, r->dir);
	fputs(",\"variants\":[", f);
	for (int v = 0; v < r->n; v++) {
		const struct sl_outcome *o = &r->out[v];

		fputs(v ? ",{\"name\":" : "{\"name\":", f);
		sl_json_string(f, r->reg->variant[v]->name);
		fprintf(f, ",\"holds\":%s,\"expected_holds\":%s,"
			"\"as_declared\":%s,\"error\":",
			o->holds && !o->error ? "true" : "false",
			r->reg->variant[v]->decl.holds ? "true" : "false",
			o->error ? "null" :
			as_declared(r, v) ? "true" : "false");
		sl_json_string(f, o->error ? o->why : NULL);
		fputs(",\"duration_s\":", f);
		json_number(f, o->duration_s);
		fputs(",\"predictions\":[", f);
		for (int i = 0; i < o->pred.nresults; i++) {
			fputs(i ? "," : "", f);
			json_prediction(f, &o->pred.result[i]);
		}
		/* Faults, crashes and reboots, with the backend that served
		 * each: a test can check that it ran, never assume it. */
		fputs("],\"faults\":[", f);
		for (int i = 0; i < o->nfaults; i++) {
			fputs(i ? ",{\"kind\":" : "{\"kind\":", f);
			sl_json_string(f, o->fault[i].kind);
			fputs(",\"backend\":", f);
			sl_json_string(f, o->fault[i].backend);
			fputs(",\"what\":", f);
			sl_json_string(f, o->fault[i].what);
			fprintf(f, ",\"lifted\":%s}",
				o->fault[i].lifted ? "true" : "false");
		}
		fputs("]", f);
		json_kernel(f, &o->pred);
		fputs("}", f);
	}
	fputs("],\"measured\":{", f);
	for (int v = 0; v < r->n; v++) {
		const struct sl_outcome *o = &r->out[v];

		for (int i = 0; i < o->pred.nmeasures; i++) {
			char name[160];

			snprintf(name, sizeof(name), "%s.%s",
				 r->reg->variant[v]->name,
				 o->pred.measure[i].name);
			fputs(first ? "" : ",", f);
			first = 0;
			sl_json_string(f, name);
			fputs(":{\"value\":", f);
			json_number(f, o->pred.measure[i].value);
			fputs(",\"unit\":", f);
			sl_json_string(f, o->pred.measure[i].unit);
			fputc('}', f);
		}
	}
	fputs("}}\n", f);
}

void sl_report_text(FILE *f, const struct sl_report *r)
{
	char path[4096], line[1024];

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
	fputc('\n', f);
	/* Said once, not once per prediction it affects. */
	for (int v = 0; v < r->n; v++) {
		if (r->out[v].pred.kernel_note[0]) {
			fprintf(f, "note: %s\n\n", r->out[v].pred.kernel_note);
			break;
		}
	}
	for (int v = 0; v < r->n; v++) {
		const struct sl_outcome *o = &r->out[v];
		const char *name = r->reg->variant[v]->name;
		FILE *tl;

		if (o->error)
			fprintf(f, "== variant %s: ERROR ==\n", name);
		else if (as_declared(r, v))
			fprintf(f, "== variant %s: %s, as declared ==\n", name,
				o->holds ? "holds" : "does not hold");
		else
			fprintf(f, "== variant %s: %s, NOT AS DECLARED "
				"(declared %s) ==\n", name,
				o->holds ? "holds" : "does not hold",
				o->holds ? "not to hold" : "to hold");
		if (o->error)
			fprintf(f, "  error: %s\n", o->why);
		for (int i = 0; i < o->nfaults; i++)
			fprintf(f, "  %s (%s): %s\n", o->fault[i].kind,
				o->fault[i].backend, o->fault[i].what);
		for (int i = 0; i < o->pred.nresults; i++) {
			const struct sl_result *res = &o->pred.result[i];

			fprintf(f, "  [%s] %s\n",
				res->skipped[0] ? "skip" : res->ok ? " ok " : "FAIL",
				res->what);
			if (res->skipped[0])
				fprintf(f, "         skipped: %s\n", res->skipped);
			else if (res->evidence[0])
				fprintf(f, "         %s\n", res->evidence);
		}
		for (int i = 0; i < o->pred.nmeasures; i++)
			fprintf(f, "  measured %s = %.3f %s\n",
				o->pred.measure[i].name, o->pred.measure[i].value,
				o->pred.measure[i].unit);
		text_counters(f, &o->pred);
		/* The ladder first, for the shape of the exchange, then the
		 * timeline with every detail. */
		static const char *const parts[] = { "ladder.txt", "timeline.txt" };

		for (unsigned k = 0; k < 2; k++) {
			int fd;

			snprintf(path, sizeof(path), "%s/%s", name, parts[k]);
			fd = r->dirfd >= 0 ? sl_resultdir_read(r->dirfd, path) :
					     -EBADF;
			tl = fd >= 0 ? fdopen(fd, "r") : NULL;
			if (!tl) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			fputc('\n', f);
			while (fgets(line, sizeof(line), tl))
				fputs(line, f);
			fclose(tl);
		}
		fputc('\n', f);
	}
}
