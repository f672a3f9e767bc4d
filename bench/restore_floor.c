/* restore_floor DIR SIZE N: what a memo hit's restore cannot go under on
 * this machine's file system: N times, an object of SIZE bytes read whole
 * into one reused buffer, every byte touched (a stand-in for the checksum,
 * at memory speed), written to a new temporary file beside the output, its
 * mode set, renamed over the output (one of 50, so old files are freed as
 * in a rebuild) and fstat'ed: the system calls `Memoizer::restore` makes
 * for a file, with nothing else. Prints microseconds per restore and MB/s.
 *
 *   cc -O2 bench/restore_floor.c -o /tmp/restore_floor
 *   /tmp/restore_floor "$TMPFS_DIR" 100000 2000
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 4 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: restore_floor DIR SIZE N\n");
        return 2;
    }
    size_t size = strtoul(argv[2], NULL, 10);
    long n = strtol(argv[3], NULL, 10);
    char *buf = malloc(size + 1);
    if (!buf) die("malloc");
    memset(buf, 7, size);
    int fd = open("object", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, size) != (ssize_t)size) die("object");
    close(fd);
    volatile unsigned long sum = 0;
    double start = now();
    for (long i = 0; i < n; i++) {
        char out[32], tmp[32];
        snprintf(out, sizeof out, "out%ld", i % 50);
        snprintf(tmp, sizeof tmp, ".tmp%ld", i);
        int in = open("object", O_RDONLY);
        ssize_t got = in < 0 ? -1 : read(in, buf, size + 1);
        if (got != (ssize_t)size) die("read");
        for (size_t k = 0; k < size; k += 64) sum += buf[k];
        int o = open(tmp, O_CREAT | O_EXCL | O_WRONLY, 0600);
        if (o < 0 || write(o, buf, size) != (ssize_t)size) die("write");
        struct stat st;
        if (fchmod(o, 0644) || rename(tmp, out) || fstat(o, &st)) die("put");
        close(o);
        close(in);
    }
    double took = now() - start;
    printf("%zu bytes: %.1f us a restore, %.0f MB/s\n", size, took / n * 1e6,
           size * (double)n / took / 1e6);
    for (long i = 0; i < 50 && i < n; i++) {
        char out[32];
        snprintf(out, sizeof out, "out%ld", i);
        unlink(out);
    }
    unlink("object");
    return 0;
}
