/*
 * The "compiler" of bench/everyday.sh: writes the file after -o and, with -MF,
 * a depfile as gcc -MMD would, naming each input and every `#include "path"`
 * line in it (paths taken as written, relative to the build directory).
 * Ignores every other flag and the inputs' meaning: it compiles nothing, so a
 * build of the tree measures the build tool, not a compiler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends the quoted path of each `#include "..."` line of src to dep. */
static int list_includes(FILE *dep, const char *src)
{
	char line[4096];
	FILE *f = fopen(src, "r");
	if (!f) {
		perror(src);
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p = line, *end;
		if (strncmp(p, "#include \"", 10) != 0)
			continue;
		p += 10;
		end = strchr(p, '"');
		if (end)
			fprintf(dep, " \\\n  %.*s", (int)(end - p), p);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL, *depfile = NULL;
	int i, failed = 0;
	FILE *f, *dep;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "-MF") && i + 1 < argc)
			depfile = argv[++i];
	}
	if (!out) {
		fprintf(stderr, "fakecc: no -o\n");
		return 2;
	}
	f = fopen(out, "w");
	if (!f || fputs("fake output\n", f) < 0 || fclose(f)) {
		perror(out);
		return 1;
	}
	if (!depfile)
		return 0;
	dep = fopen(depfile, "w");
	if (!dep) {
		perror(depfile);
		return 1;
	}
	fprintf(dep, "%s:", out);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-o") || !strcmp(a, "-MF")) {
			i++;
			continue;
		}
		if (a[0] == '-')
			continue;
		fprintf(dep, " \\\n  %s", a);
		failed |= list_includes(dep, a);
	}
	fputc('\n', dep);
	if (fclose(dep))
		failed = 1;
	return failed;
}
