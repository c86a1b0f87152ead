/* socklab-man.c: writes socklab's man pages from the data of its --help
 * texts (harness/help.h), at build time: socklab.1, and socklab-<command>.1
 * for each command.  There is no hand-written copy of any page, so none
 * can drift from what `socklab <command> --help` says.
 *
 * usage: socklab-man <folder> <version>
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "help.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <folder> <version>\n", argv[0]);
		return 64;
	}
	for (int i = 0; cli_helps[i]; i++) {
		const struct cli_help *h = cli_helps[i];
		char path[4096];
		FILE *f;

		if (i == 0)
			snprintf(path, sizeof(path), "%s/socklab.1", argv[1]);
		else
			snprintf(path, sizeof(path), "%s/socklab-%s.1", argv[1],
				 h->name);
		f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "socklab-man: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		cli_help_man(f, h, argv[2]);
		if (fclose(f) != 0) {
			fprintf(stderr, "socklab-man: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	return 0;
}
