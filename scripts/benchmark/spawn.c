/* Runs one command and reports its wall time and its own peak RSS, for scripts/bench.
 *
 *   cc -O2 scripts/benchmark/spawn.c -o bench_spawn
 *   bench_spawn [-s] STDERR_FILE COMMAND [ARGS...]
 *
 * Why a launcher: on Linux a process's ru_maxrss starts from the high-water mark of
 * the memory it was forked from (exec records the old mm's peak), so a command
 * spawned straight from the benchmark's Python process (torch loaded: ~700 MB)
 * reports at least that much. Forked from this small process it reports its own.
 *
 * The command's stderr goes to STDERR_FILE (created or truncated), stdout is
 * inherited. The wall time spans fork to reaped exit (CLOCK_MONOTONIC). With -s,
 * /proc/PID/status is polled every 5 ms for the peaks of RssAnon and RssFile
 * (exit is then noticed up to 1 ms late: use -s for memory runs, not latency runs).
 * Prints one JSON line on stdout:
 *   {"status": S, "wall_s": W, "max_rss_kib": K, "rss_anon_kib": A, "rss_file_kib": F}
 * S is the exit status, or 128 + signal number; A and F are -1 without -s.
 * Exit status: 0 when the report was printed (whatever the command did), 2 on
 * bad arguments, 3 when fork/exec/wait failed (with a message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Raises *anon and *file to the current RssAnon / RssFile (KiB) of pid, if readable. */
static void sample(pid_t pid, long *anon, long *file) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        long value;
        if (sscanf(line, "RssAnon: %ld", &value) == 1 && value > *anon) *anon = value;
        if (sscanf(line, "RssFile: %ld", &value) == 1 && value > *file) *file = value;
    }
    fclose(f);
}

int main(int argc, char **argv) {
    int first = 1, sampling = 0;
    if (argc > 1 && strcmp(argv[1], "-s") == 0) {
        sampling = 1;
        first = 2;
    }
    if (argc - first < 2) {
        fprintf(stderr, "usage: %s [-s] STDERR_FILE COMMAND [ARGS...]\n", argv[0]);
        return 2;
    }
    int err = open(argv[first], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err < 0) {
        fprintf(stderr, "bench_spawn: cannot open %s: %s\n", argv[first], strerror(errno));
        return 3;
    }
    double start = now();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_spawn: fork: %s\n", strerror(errno));
        return 3;
    }
    if (pid == 0) {
        dup2(err, 2);
        execvp(argv[first + 1], argv + first + 1);
        fprintf(stderr, "bench_spawn: cannot run %s: %s\n", argv[first + 1], strerror(errno));
        _exit(127);
    }
    close(err);
    int status = 0;
    struct rusage usage;
    long anon = -1, file = -1;
    pid_t done;
    if (sampling) {
        anon = file = 0;
        int polls = 0;
        while ((done = wait4(pid, &status, WNOHANG, &usage)) == 0) {
            if (polls++ % 5 == 0) sample(pid, &anon, &file);
            usleep(1000);
        }
    } else {
        do done = wait4(pid, &status, 0, &usage); while (done < 0 && errno == EINTR);
    }
    double wall = now() - start;
    if (done < 0) {
        fprintf(stderr, "bench_spawn: wait4: %s\n", strerror(errno));
        return 3;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("{\"status\": %d, \"wall_s\": %.6f, \"max_rss_kib\": %ld, \"rss_anon_kib\": %ld, \"rss_file_kib\": %ld}\n",
           code, wall, usage.ru_maxrss, anon, file);
    return 0;
}
