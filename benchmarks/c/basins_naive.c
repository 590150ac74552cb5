/* Naive reference: the straightforward single-core C loop with the stopping rule of
 * basins_rule.h. The grid is cut into blocks of BLOCK points; inside a block the live points
 * are packed in arrays and BLOCK_STEPS steps run as a branch-free loop over them (which gcc
 * vectorises), then stopped points are written out and the others packed again. Points still
 * live at the Lyapunov window finish in run_point().
 *
 * Build: gcc -O3 -march=native -o basins_naive basins_naive.c -lm
 */
#include <time.h>

#include "basins_rule.h"

#define BLOCK 2048

static double now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_block(const problem *p, long lo, long m, results *out) {
    static double a[BLOCK], b[BLOCK], ca[BLOCK], cb[BLOCK];
    static long idx[BLOCK], cnt[BLOCK];
    static long stop[BLOCK];   /* as wide as a double: gcc vectorises the loop without packing */
    const double eps = p->eps, target = p->target, lr = p->lr, tol = p->tol;
    const double radius2 = p->radius2, eps2 = eps * eps;
    for (long i = 0; i < m; i++) {
        grid_point(p, lo + i, &a[i], &b[i]);
        ca[i] = a[i];
        cb[i] = b[i];
        idx[i] = lo + i;
        cnt[i] = 0;
        stop[i] = 0;
    }
    long live = m, t = 0, tc = 0, every = p->first_every;
    while (live > 0 && t + BLOCK_STEPS <= p->t_lyap) {
        for (int s = 0; s < BLOCK_STEPS; s++) {
            for (long i = 0; i < live; i++) {
                double x = a[i], y = b[i];
                double z = 0.5 * (x * x - eps * y * y) - target;
                double g = lr * z;
                long st = stop[i] | (fabs(z) < tol) | !(x * x + y * y <= radius2);
                a[i] = st ? x : x - g * x;
                b[i] = st ? y : y + g * eps * y;
                cnt[i] += !st;
                stop[i] = st;
            }
        }
        t += BLOCK_STEPS;
        long since = t - tc, w = 0;
        for (long i = 0; i < live; i++) {
            double x = a[i], y = b[i], r2 = x * x + y * y;
            int c = -1, period = 0;
            if (stop[i]) {
                c = r2 <= radius2 ? CONVERGED : DIVERGED;
                period = c == CONVERGED;
            } else {
                double g = lr * (0.5 * (x * x - eps * y * y) - target);
                double jump2 = g * g * (x * x + eps2 * y * y);
                double dx = x - ca[i], dy = y - cb[i];
                if (jump2 <= p->jtol2 * (p->jshift + r2)) {
                    c = CONVERGED;
                    period = 1;
                } else if (dx * dx + dy * dy <= p->rtol2 * jump2 && jump2 <= 4.0 * radius2) {
                    c = PERIODIC;
                    period = (int)since;
                }
            }
            if (c >= 0) {
                put(out, idx[i], c, period, cnt[i], x, y, NAN);
            } else {
                a[w] = x;
                b[w] = y;
                ca[w] = ca[i];
                cb[w] = cb[i];
                idx[w] = idx[i];
                cnt[w] = cnt[i];
                stop[w] = 0;
                w++;
            }
        }
        live = w;
        if (since >= every) {
            tc = t;
            every = 2 * every < p->cap ? 2 * every : p->cap;
            for (long i = 0; i < live; i++) {
                ca[i] = a[i];
                cb[i] = b[i];
            }
        }
    }
    for (long i = 0; i < live; i++) {
        point s = {a[i], b[i], ca[i], cb[i], 1.0, 0.0, 0.0, t, tc, every, cnt[i], idx[i]};
        run_point(p, &s, out);
    }
}

int main(int argc, char **argv) {
    problem p = parse_problem(argc, argv);
    long n = p.n1 * p.n2;
    results out = alloc_results(n);
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (long lo = 0; lo < n; lo += BLOCK)
        run_block(&p, lo, n - lo < BLOCK ? n - lo : BLOCK, &out);
    double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    report(n, &out, wall, cpu);
    return 0;
}
