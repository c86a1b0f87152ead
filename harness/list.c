/* list.c: `socklab list`, the catalogue. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "json.h"
#include "report.h"
#include "catalog.h"

static void print_json(const struct cli_catalog *r)
{
	for (int i = 0; i < r->n; i++) {
		const struct cli_exp *x = &r->exp[i];

		if (!x->broken) {
			puts(x->describe);
			continue;
		}
		sl_json_line(stdout,
			     json_pack("{s:o,s:o}", "id", sl_json_text(x->id),
				       "error", sl_json_text(x->broken)));
	}
}

static void print_table(const struct cli_catalog *r)
{
	int width = cli_term_width(STDOUT_FILENO);
	int idw = 2;

	for (int i = 0; i < r->n; i++) {
		int n = (int)strlen(r->exp[i].id);

		idw = n > idw ? n : idw;
	}
	/* id, expected (9), variants (8), then the claim gets the rest. */
	printf("%-*s  %-9s  %8s  %s\n", idw, "id", "expected", "variants",
	       "claim");
	for (int i = 0; i < r->n; i++) {
		const struct cli_exp *x = &r->exp[i];
		int used = idw + 2 + 9 + 2 + 8 + 2;
		int rest = width ? width - used : 0;

		if (width && rest < 10)
			rest = 10;
		if (x->broken) {
			char why[600];

			snprintf(why, sizeof(why), "(broken: %s)", x->broken);
			printf("%-*s  %-9s  %8s  ", idw, x->id, "?", "?");
			cli_print_cut(stdout, why, rest);
		} else {
			printf("%-*s  %-9s  %8d  ", idw, x->id, x->expected,
			       x->nvariants);
			cli_print_cut(stdout, x->claim, rest);
		}
		putchar('\n');
	}
}

int cli_cmd_list(int argc, char **argv)
{
	struct cli_catalog r;
	struct sl_err e = { "" };
	int json = 0, c, nbroken = 0;

	c = cli_parse_json_only("list", argc, argv, &json);
	if (c >= 0)
		return c;
	if (cli_catalog_load(&r, &e)) {
		fprintf(stderr, "socklab: list: %s\n", e.msg);
		cli_catalog_free(&r);
		return SL_EXIT_ERROR;
	}
	if (r.n == 0 && !json)
		fprintf(stderr, "socklab: list: no experiments in '%s'\n",
			r.dir);
	if (json)
		print_json(&r);
	else if (r.n)
		print_table(&r);
	for (int i = 0; i < r.n; i++)
		nbroken += r.exp[i].broken != NULL;
	cli_catalog_free(&r);
	return nbroken ? SL_EXIT_ERROR : 0;
}
