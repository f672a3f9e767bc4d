/*
 * The compiler and linker launcher of bench/llvm_noop.sh: brings a CMake
 * `-G Ninja` build of LLVM up to date without compiling or linking, so that
 * every tool can time a no-op on the real manifest with the real depfiles.
 *
 *   llvm_fake [-cache DIR] COMPILER ARGS...   (CMAKE_<LANG>_*_LAUNCHER)
 *     with -c (a compile): runs COMPILER ARGS with `-o /dev/null -E`, i.e.
 *       only the preprocessor, so -MD -MF writes the compiler's own depfile;
 *       then writes the -o object as a placeholder.  With -cache, the depfile
 *       is also kept in DIR under a hash of the command line and working
 *       directory, and the same command later copies it instead (another
 *       tool's full build of a copy of the tree).  The cache is never checked
 *       against the sources: it lives and dies with one built tree.
 *     without -c (a link): writes the -o output as a shell script that runs
 *       `llvm_fake -run`, so the build's own programs (llvm-tblgen, ...) exist.
 *   llvm_fake -run PROGRAM ARGS...   (a "linked" program, run by the build)
 *     writes a placeholder for each output its arguments name: `-o FILE`
 *     and `-d FILE` (the *-tblgen; -d gets a depfile naming the first output
 *     and the arguments that are existing files), `-o-NAME=FILE`
 *     (mlir-linalg-ods-yaml-gen), `--json-output-path FILE` (clang-ast-dump:
 *     `{}`, as it writes when told to skip its work),
 *     and with `-module-dir DIR`, DIR/NAME.mod for each NAME.f90 argument,
 *     NAME lower-cased (flang-new -fc1 building the intrinsic modules, one
 *     module a file).  Any other argument is ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "llvm_fake: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		die(strerror(errno), path);
	if (mode && chmod(path, mode))
		die(strerror(errno), path);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Copies file from to file to; returns 0 when from cannot be read. */
static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out;
	if (!in)
		return 0;
	out = fopen(to, "wb");
	if (!out)
		die(strerror(errno), to);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			die(strerror(errno), to);
	fclose(in);
	if (fclose(out))
		die(strerror(errno), to);
	return 1;
}

/* The cache file of this command: DIR/<FNV-1a of cwd and argv>.d */
static void cache_path(char *path, const char *dir, int argc, char **argv)
{
	unsigned long long h = 1469598103934665603ull;
	char cwd[PATH_MAX];
	const char *s;
	int i;
	if (!getcwd(cwd, sizeof cwd))
		die("getcwd", strerror(errno));
	for (i = -1; i < argc; i++) {
		for (s = i < 0 ? cwd : argv[i]; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	snprintf(path, PATH_MAX, "%s/%016llx.d", dir, h);
}

/* Runs argv (COMPILER ARGS) as a preprocessor-only run; returns its status. */
static int preprocess(int argc, char **argv)
{
	char **args = calloc(argc + 2, sizeof *args);
	int i, status;
	pid_t pid;
	if (!args)
		die("out of memory", NULL);
	for (i = 0; i < argc; i++)
		args[i] = (i > 0 && !strcmp(argv[i - 1], "-o")) ? "/dev/null" : argv[i];
	args[argc] = "-E";
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		execvp(args[0], args);
		die(strerror(errno), args[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid", strerror(errno));
	free(args);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int compile(int argc, char **argv, const char *out, const char *cache)
{
	const char *depfile = NULL;
	char cached[PATH_MAX];
	int i, rc;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-MF"))
			depfile = argv[i + 1];
	if (cache && depfile) {
		cache_path(cached, cache, argc, argv);
		if (copy_file(cached, depfile)) {
			write_file(out, "fake object\n", 0);
			return 0;
		}
	}
	rc = preprocess(argc, argv);
	if (rc)
		return rc;
	if (cache && depfile && !copy_file(depfile, cached))
		die("no depfile after preprocessing", depfile);
	write_file(out, "fake object\n", 0);
	return 0;
}

static int link_program(const char *out)
{
	char self[PATH_MAX], script[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		die("cannot find myself", strerror(errno));
	self[n] = 0;
	snprintf(script, sizeof script, "#!/bin/sh\nexec %s -run \"$0\" \"$@\"\n", self);
	write_file(out, script, 0755);
	return 0;
}

/* Writes DIR/name.mod for the Fortran source path NAME.f90 (NAME lower-cased). */
static void write_module(const char *dir, const char *source)
{
	const char *base = strrchr(source, '/');
	char path[PATH_MAX];
	size_t len, i;
	base = base ? base + 1 : source;
	len = strlen(base);
	if (len < 5 || strcasecmp(base + len - 4, ".f90"))
		return;
	len = snprintf(path, sizeof path, "%s/%.*s", dir, (int)(len - 4), base);
	for (i = strlen(dir) + 1; i < len && i < sizeof path; i++)
		path[i] = tolower((unsigned char)path[i]);
	snprintf(path + len, sizeof path - len, ".mod");
	write_file(path, "fake module\n", 0);
}

static int run_program(int argc, char **argv)
{
	const char *first = NULL, *depfile = NULL, *module_dir = NULL;
	int i;
	FILE *dep;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		if (!strcmp(a, "-o") && i + 1 < argc) {
			write_file(argv[++i], "fake output\n", 0);
			if (!first)
				first = argv[i];
		} else if (!strcmp(a, "--json-output-path") && i + 1 < argc) {
			/* what clang-ast-dump --skip-processing=1 writes: an empty
			 * object, which generate_cxx_src_locs.py turns into the empty
			 * implementation */
			write_file(argv[++i], "{}\n", 0);
		} else if (!strncmp(a, "-o-", 3) && eq) {
			write_file(eq + 1, "fake output\n", 0);
		} else if (!strcmp(a, "-d") && i + 1 < argc) {
			depfile = argv[++i];
		} else if (!strcmp(a, "-module-dir") && i + 1 < argc) {
			module_dir = argv[++i];
		}
	}
	for (i = 1; module_dir && i < argc; i++)
		if (argv[i][0] != '-' && strcmp(argv[i - 1], "-module-dir"))
			write_module(module_dir, argv[i]);
	if (!depfile)
		return 0;
	if (!first)
		die("-d without -o", depfile);
	dep = fopen(depfile, "w");
	if (!dep)
		die(strerror(errno), depfile);
	fprintf(dep, "%s:", first);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "-d"))
			i++;
		else if (argv[i][0] != '-' && is_file(argv[i]))
			fprintf(dep, " \\\n  %s", argv[i]);
	}
	fputc('\n', dep);
	return fclose(dep) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL, *cache = NULL;
	int i, is_compile = 0;

	if (argc > 1 && !strcmp(argv[1], "-run"))
		return run_program(argc - 2, argv + 2);
	argv++, argc--;
	if (argc > 1 && !strcmp(argv[0], "-cache")) {
		cache = argv[1];
		argv += 2, argc -= 2;
	}
	if (argc < 1)
		die("usage: llvm_fake [-cache DIR] COMPILER ARGS... | llvm_fake -run PROGRAM ARGS...", NULL);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "-c"))
			is_compile = 1;
	}
	if (!out)
		die("no -o in", argv[0]);
	return is_compile ? compile(argc, argv, out, cache) : link_program(out);
}
