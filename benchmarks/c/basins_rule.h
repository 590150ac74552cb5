/* The stopping rule of dynsys's 2-D basins kernel, for one point, in plain C.
 *
 * Shared by the two C references of benchmarks/bench_basins.py: the naive loop runs every grid
 * point through run_point() from t = 0; the SIMD loop runs points in vector lanes and hands a
 * lane to run_point() only for the last stretch before the Lyapunov window.
 *
 * Gradient descent on L = z^2 / 2, z = (x^2 - eps y^2) / 2 - target, with step size lr:
 *   x' = x - lr z x,   y' = y + lr z eps y.
 * Every step, on the current state: diverged when !(x^2 + y^2 <= radius^2) (also NaN), converged
 * when |z| < tol; the point is then frozen. At the end of every block of BLOCK_STEPS steps:
 * stopped points are written out (diverged or converged); for the others, converged when the
 * one-step jump satisfies jump^2 <= jtol^2 (jshift + r^2), periodic when the state is back at
 * the last checkpoint to within cycle_rtol * jump (and jump <= 2 radius). The checkpoint is
 * refreshed after 64 steps, then after doubling intervals up to BLOCK_STEPS * max_period. In
 * the last lyap_steps steps of the budget a tangent vector is carried and renormalised at each
 * block end; a point still running at the end is chaotic when its mean log growth exceeds the
 * threshold, undecided otherwise.
 */
#ifndef BASINS_RULE_H
#define BASINS_RULE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCK_STEPS 16
enum { CONVERGED = 0, PERIODIC = 1, DIVERGED = 2, UNDECIDED = 3, CHAOTIC = 4 };

typedef struct {
    double eps, target, lr, tol, radius2, rtol2, jtol2, jshift, threshold;
    long steps, cap, first_every, t_lyap;
    long n1, n2;
    double lo1, step1, hi1, lo2, step2, hi2;
} problem;

typedef struct {
    signed char *code;
    int *period;
    long *used;
    double *final;   /* (n, 2) */
    double *ftle;
} results;

/* argv: eps target lr n lo1 hi1 lo2 hi2 steps [tol radius max_period cycle_rtol lyap_steps
 * threshold] (the defaults of dynsys.basins). */
static problem parse_problem(int argc, char **argv) {
    if (argc < 10) {
        fprintf(stderr, "usage: %s eps target lr n lo1 hi1 lo2 hi2 steps [tol radius "
                        "max_period cycle_rtol lyap_steps threshold]\n", argv[0]);
        exit(2);
    }
    problem p;
    p.eps = atof(argv[1]);
    p.target = atof(argv[2]);
    p.lr = atof(argv[3]);
    p.n1 = p.n2 = atol(argv[4]);
    p.lo1 = atof(argv[5]);
    p.hi1 = atof(argv[6]);
    p.lo2 = atof(argv[7]);
    p.hi2 = atof(argv[8]);
    p.steps = atol(argv[9]);
    double tol = argc > 10 ? atof(argv[10]) : 1e-12;
    double radius = argc > 11 ? atof(argv[11]) : 1e6;
    long max_period = argc > 12 ? atol(argv[12]) : 64;
    double rtol = argc > 13 ? atof(argv[13]) : 1e-8;
    long lyap = argc > 14 ? atol(argv[14]) : 1000;
    p.threshold = argc > 15 ? atof(argv[15]) : 0.01;
    if (lyap > p.steps) lyap = p.steps;
    p.tol = tol;
    p.radius2 = radius * radius;
    p.rtol2 = rtol * rtol;
    p.jtol2 = tol * tol;  /* dynsys passes jtol = tol, jshift = 1 when lr is not rescaled */
    p.jshift = 1.0;
    p.cap = BLOCK_STEPS * max_period;
    p.first_every = 4 * BLOCK_STEPS < p.cap ? 4 * BLOCK_STEPS : p.cap;
    p.t_lyap = p.steps - lyap > 0 ? p.steps - lyap : 0;
    /* numpy.linspace: start + i * step, the last point exactly stop */
    p.step1 = (p.hi1 - p.lo1) / (double)(p.n1 - 1);
    p.step2 = (p.hi2 - p.lo2) / (double)(p.n2 - 1);
    return p;
}

static inline void grid_point(const problem *p, long i, double *x, double *y) {
    long r = i / p->n2, c = i % p->n2;
    *x = r == p->n1 - 1 ? p->hi1 : p->lo1 + (double)r * p->step1;
    *y = c == p->n2 - 1 ? p->hi2 : p->lo2 + (double)c * p->step2;
}

static inline long block_length(const problem *p, long t) {
    long k = p->steps - t < BLOCK_STEPS ? p->steps - t : BLOCK_STEPS;
    if (t < p->t_lyap && t + k > p->t_lyap) k = p->t_lyap - t;
    return k;
}

static inline void put(results *out, long j, int code, int period, long used, double x,
                       double y, double ftle) {
    out->code[j] = (signed char)code;
    out->period[j] = period;
    out->used[j] = used;
    out->final[2 * j] = x;
    out->final[2 * j + 1] = y;
    out->ftle[j] = ftle;
}

/* The state of one point between blocks: position, checkpoint, tangent vector and its log
 * growth, time t, checkpoint time tc, next checkpoint interval, iterations applied, index. */
typedef struct {
    double x, y, cx, cy, va, vb, lsum;
    long t, tc, every, cnt, j;
} point;

static inline point start_point(const problem *p, long j) {
    point s;
    grid_point(p, j, &s.x, &s.y);
    s.cx = s.x;
    s.cy = s.y;
    s.va = 1.0;
    s.vb = 0.0;
    s.lsum = 0.0;
    s.t = s.tc = s.cnt = 0;
    s.every = p->first_every;
    s.j = j;
    return s;
}

static inline void finish_running(const problem *p, const point *s, results *out) {
    long n_lyap = p->steps - p->t_lyap;
    double lam = n_lyap > 0 ? s->lsum / (double)n_lyap : NAN;
    put(out, s->j, lam > p->threshold ? CHAOTIC : UNDECIDED, 0, s->cnt, s->x, s->y, lam);
}

/* Run one block of the rule on point s (block_length steps, then the block-end tests). Return 1
 * when the point stopped (its results are written), 0 when it runs on. */
static int point_block(const problem *p, point *s, results *out) {
    const double eps = p->eps, target = p->target, lr = p->lr, tol = p->tol;
    const double radius2 = p->radius2, eps2 = eps * eps;
    if (s->t >= p->steps) {
        finish_running(p, s, out);
        return 1;
    }
    double x = s->x, y = s->y, va = s->va, vb = s->vb;
    long k = block_length(p, s->t), cnt = s->cnt;
    int stop = 0;
    if (s->t < p->t_lyap) {
        for (long i = 0; i < k; i++) {
            double z = 0.5 * (x * x - eps * y * y) - target;
            if (fabs(z) < tol || !(x * x + y * y <= radius2)) { stop = 1; break; }
            double g = lr * z;
            x = x - g * x;
            y = y + g * eps * y;
            cnt++;
        }
    } else {
        for (long i = 0; i < k; i++) {
            double z = 0.5 * (x * x - eps * y * y) - target;
            if (fabs(z) < tol || !(x * x + y * y <= radius2)) { stop = 1; break; }
            double g = lr * z;
            double off = lr * eps * x * y;
            double j00 = 1.0 - lr * (x * x + z);
            double j11 = 1.0 - lr * (eps2 * y * y - eps * z);
            double u = va, v = vb;
            va = j00 * u + off * v;
            vb = off * u + j11 * v;
            x = x - g * x;
            y = y + g * eps * y;
            cnt++;
        }
        double nrm = sqrt(va * va + vb * vb);
        s->lsum += log(nrm);
        va /= nrm;
        vb /= nrm;
    }
    s->x = x;
    s->y = y;
    s->va = va;
    s->vb = vb;
    s->cnt = cnt;
    s->t += k;
    long since = s->t - s->tc;
    double r2 = x * x + y * y;
    if (stop) {
        if (!(r2 <= radius2)) put(out, s->j, DIVERGED, 0, cnt, x, y, NAN);
        else put(out, s->j, CONVERGED, 1, cnt, x, y, NAN);
        return 1;
    }
    double g = lr * (0.5 * (x * x - eps * y * y) - target);
    double jump2 = g * g * (x * x + eps2 * y * y);
    double dx = x - s->cx, dy = y - s->cy;
    if (jump2 <= p->jtol2 * (p->jshift + r2)) {
        put(out, s->j, CONVERGED, 1, cnt, x, y, NAN);
        return 1;
    }
    if (dx * dx + dy * dy <= p->rtol2 * jump2 && jump2 <= 4.0 * radius2) {
        put(out, s->j, PERIODIC, (int)since, cnt, x, y, NAN);
        return 1;
    }
    if (since >= s->every) {
        s->tc = s->t;
        s->every = 2 * s->every < p->cap ? 2 * s->every : p->cap;
        s->cx = x;
        s->cy = y;
    }
    if (s->t >= p->steps) {
        finish_running(p, s, out);
        return 1;
    }
    return 0;
}

/* Run point s to the end of the rule. */
static void run_point(const problem *p, point *s, results *out) {
    while (!point_block(p, s, out)) {
    }
}

static results alloc_results(long n) {
    results r;
    r.code = malloc(n);
    r.period = malloc(n * sizeof(int));
    r.used = malloc(n * sizeof(long));
    r.final = malloc(2 * n * sizeof(double));
    r.ftle = malloc(n * sizeof(double));
    if (!r.code || !r.period || !r.used || !r.final || !r.ftle) { perror("malloc"); exit(1); }
    return r;
}

/* One line: point-iterations, wall seconds, CPU seconds, then the count of each outcome. */
static void report(long n, const results *r, double wall, double cpu) {
    long total = 0, counts[5] = {0, 0, 0, 0, 0};
    for (long i = 0; i < n; i++) {
        total += r->used[i];
        counts[(int)r->code[i]]++;
    }
    printf("%ld %.6f %.6f %ld %ld %ld %ld %ld\n", total, wall, cpu, counts[0], counts[1],
           counts[2], counts[3], counts[4]);
}

#endif
