/* help.h: the one source of socklab's --help texts and man pages.
 *
 * Each command's help is data: a summary, usage lines, a description, its
 * options and a few titled sections.  `socklab <command> --help` prints it
 * as text (cli_help_text()), and at build time man/socklab-man.c writes
 * the same data as socklab.1 and socklab-<command>.1 (cli_help_man()), so
 * the two cannot drift: an option added here is in both, and
 * tests/integration/man_pages.sh checks every page against --help.
 *
 * The texts are paragraphs separated by a blank line ("\n\n"), filled by
 * each renderer to its own width; a line that begins with two spaces is
 * kept as it is (examples, commands to type).  `code` is printed with its
 * backquotes in text, in bold in a man page.
 */
#ifndef CLI_HELP_H
#define CLI_HELP_H

#include <stdio.h>

struct cli_help_opt {
	const char *flags; /* as typed, with the value's name: "-j, --jobs N" */
	const char *text;
};

struct cli_help_section {
	const char *title; /* lower case: "exit status", "environment" */
	const char *text;
};

struct cli_help {
	const char *name;	  /* "run"; "socklab" for the command itself */
	const char *summary;	  /* one line, lower case, no full stop */
	const char *const *usage; /* NULL-terminated, each a whole line */
	const char *text;	  /* the description */
	const struct cli_help_opt *opts;	 /* ends with { NULL } */
	const struct cli_help_section *sections; /* ends with { NULL } */
};

/* socklab itself, then each command in the order `socklab --help` lists
 * them; NULL-terminated. */
extern const struct cli_help *const cli_helps[];

/* The help of command name ("socklab" for the command itself), or NULL. */
const struct cli_help *cli_help_find(const char *name);

/* --help: the usage lines, the description, the options and the sections,
 * filled to 72 columns. */
void cli_help_text(FILE *f, const struct cli_help *h);

/* The man page, in roff's man macros: NAME, SYNOPSIS, DESCRIPTION,
 * OPTIONS, one section per titled section, SEE ALSO. */
void cli_help_man(FILE *f, const struct cli_help *h, const char *version);

#endif
