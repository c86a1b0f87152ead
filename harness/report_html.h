/* report_html.h: a run's index.html (report_html.c). */
#ifndef CLI_REPORT_HTML_H
#define CLI_REPORT_HTML_H

/* Writes index.html into the run folder run_fd, from what the run wrote
 * there for the experiments ids[0..n): the summary table, then per
 * experiment its claim, verdict, each variant's predictions with their
 * evidence, its ladder picture inline, its timeline, and links to its
 * files; guides is the folder of the lab guides (NULL: no links).
 * Returns 0 or -errno. */
int cli_report_html(int run_fd, const char *run, const char *const *ids, int n,
		    const char *guides);

#endif
