/* Physical-limit reference: the stopping rule of basins_rule.h on vector lanes, all cores.
 *
 * Each OpenMP thread keeps two sets of NV vectors of W lanes (W = 8 doubles with AVX-512, 4 with
 * AVX, 2 otherwise; GCC vector extensions, so any target compiles): the main set runs BLOCK_STEPS
 * branch-free steps of plain gradient descent on every lane (stopped lanes frozen by a mask),
 * the window set the same steps carrying the tangent vector (the last lyap_steps steps of a
 * point's budget). After each round a vectorised test finds the lanes that need attention
 * (stopped, converged by the jump rule, back at their checkpoint, or at the Lyapunov window);
 * only those are handled one by one. A finished lane is written out and refilled with the next
 * grid point from the thread's pool (chunks taken from a shared atomic counter); a lane reaching
 * the window moves to the window set, which runs whenever it is full and is drained at the end.
 * Every lane has its own clock and checkpoint, so each point follows exactly the rule of a point
 * run alone; the short blocks the rule has before and at the end of the window (when the window
 * does not fall on multiples of BLOCK_STEPS) run in point_block().
 *
 * Build: gcc -O3 -march=native -fopenmp -o basins_simd basins_simd.c -lm
 */
#include <omp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "basins_rule.h"

#if defined(__AVX512F__)
#define W 8
#elif defined(__AVX__)
#define W 4
#else
#define W 2
#endif
#ifndef NV
#define NV 4
#endif
#define L (W * NV)
#define CHUNK 256

typedef double vd __attribute__((vector_size(8 * W)));
typedef int64_t vl __attribute__((vector_size(8 * W)));

static inline vd sel(vl m, vd a, vd b) { return (vd)((m & (vl)a) | (~m & (vl)b)); }
static inline vl seli(vl m, vl a, vl b) { return (m & a) | (~m & b); }
static inline unsigned bits(vl m) {
    unsigned b = 0;
    for (int l = 0; l < W; l++) b |= (unsigned)(m[l] & 1) << l;
    return b;
}

static double now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long shared_next;

/* A thread's pool of grid points: a chunk of consecutive indices taken from a shared atomic
 * counter, walked with a running (row, column) so that no division is needed per point. */
typedef struct {
    long next, end, r, c;
} pool;

static int take(const problem *p, pool *q, long *j, double *x, double *y) {
    if (q->next >= q->end) {
        long n = p->n1 * p->n2;
        long lo = __atomic_fetch_add(&shared_next, CHUNK, __ATOMIC_RELAXED);
        if (lo >= n) return 0;
        q->next = lo;
        q->end = lo + CHUNK < n ? lo + CHUNK : n;
        q->r = lo / p->n2;
        q->c = lo % p->n2;
    }
    *j = q->next++;
    *x = q->r == p->n1 - 1 ? p->hi1 : p->lo1 + (double)q->r * p->step1;
    *y = q->c == p->n2 - 1 ? p->hi2 : p->lo2 + (double)q->c * p->step2;
    if (++q->c == p->n2) {
        q->c = 0;
        q->r++;
    }
    return 1;
}

typedef struct {
    vd A[NV], B[NV], CA[NV], CB[NV], VA[NV], VB[NV];
    vl ST[NV], CNT[NV], T[NV], TC[NV], EV[NV];
    double lsum[L];
    long idx[L];
    int free[L], nfree;
} lanes;

static void clear_lane(lanes *s, int lane) {
    int v = lane / W, l = lane % W;
    s->A[v][l] = s->B[v][l] = s->CA[v][l] = s->CB[v][l] = 0.0;
    s->VA[v][l] = 1.0;
    s->VB[v][l] = 0.0;
    s->ST[v][l] = -1;
    s->CNT[v][l] = s->T[v][l] = s->TC[v][l] = s->EV[v][l] = 0;
    s->lsum[lane] = 0.0;
    s->idx[lane] = -1;
    s->free[s->nfree++] = lane;
}

static void set_lane(lanes *s, int lane, const point *q) {
    int v = lane / W, l = lane % W;
    s->A[v][l] = q->x;
    s->B[v][l] = q->y;
    s->CA[v][l] = q->cx;
    s->CB[v][l] = q->cy;
    s->VA[v][l] = q->va;
    s->VB[v][l] = q->vb;
    s->lsum[lane] = q->lsum;
    s->ST[v][l] = 0;
    s->CNT[v][l] = q->cnt;
    s->T[v][l] = q->t;
    s->TC[v][l] = q->tc;
    s->EV[v][l] = q->every;
    s->idx[lane] = q->j;
}

static point get_lane(const lanes *s, int lane) {
    int v = lane / W, l = lane % W;
    point q = {s->A[v][l], s->B[v][l], s->CA[v][l], s->CB[v][l], s->VA[v][l], s->VB[v][l],
               s->lsum[lane], s->T[v][l], s->TC[v][l], s->EV[v][l], s->CNT[v][l],
               s->idx[lane]};
    return q;
}

/* BLOCK_STEPS steps on every lane; with_tangent carries the tangent vector too. */
static inline __attribute__((always_inline)) void round_steps(const problem *p, lanes *s,
                                                              int with_tangent) {
    const double eps = p->eps, target = p->target, lr = p->lr, tol = p->tol;
    const double radius2 = p->radius2, eps2 = eps * eps, lre = lr * eps;
    const vl one = (vl){0} + 1;
    const double c1 = 0.5 * lr, c2 = 0.5 * lr * eps, c3 = lr * target, gtol = lr * tol, inv_lr = 1.0 / lr;
    vd a[NV], b[NV], va[NV], vb[NV];
    vl st[NV], cnt[NV];
    for (int v = 0; v < NV; v++) {
        a[v] = s->A[v];
        b[v] = s->B[v];
        st[v] = s->ST[v];
        cnt[v] = s->CNT[v];
        if (with_tangent) {
            va[v] = s->VA[v];
            vb[v] = s->VB[v];
        }
    }
    for (int k = 0; k < BLOCK_STEPS; k++) {
        for (int v = 0; v < NV; v++) {
            vd x = a[v], y = b[v];
            /* g = lr z, the residual test as |g| < lr tol (two compares, no abs) */
            vd g = (c1 * x) * x - ((c2 * y) * y + c3);
            vl stop = st[v] | ((g < gtol) & (g > -gtol)) | ~(x * x + y * y <= radius2);
            if (with_tangent) {
                vd off = lre * x * y;
                vd z = g * inv_lr;
                vd j00 = 1.0 - lr * (x * x + z);
                vd j11 = 1.0 - lr * (eps2 * y * y - eps * z);
                vd u = va[v], w = vb[v];
                va[v] = sel(stop, u, j00 * u + off * w);
                vb[v] = sel(stop, w, off * u + j11 * w);
            }
            a[v] = sel(stop, x, x - g * x);
            b[v] = sel(stop, y, y + (eps * g) * y);
            cnt[v] += one + stop;
            st[v] = stop;
        }
    }
    for (int v = 0; v < NV; v++) {
        s->A[v] = a[v];
        s->B[v] = b[v];
        s->ST[v] = st[v];
        s->CNT[v] = cnt[v];
        s->T[v] += BLOCK_STEPS;
        if (with_tangent) {
            s->VA[v] = va[v];
            s->VB[v] = vb[v];
        }
    }
}

/* The block-end tests of every lane, vectorised; the checkpoint refresh is applied to every
 * lane (lanes that stop are refilled anyway). Return per vector the mask of lanes that stopped
 * (stop, conv, cyc) and the time since the checkpoint before the refresh. */
static inline void block_end(const problem *p, lanes *s, vl *stopm, vl *convm, vl *cycm,
                             vl *sincev) {
    const double eps = p->eps, target = p->target, lr = p->lr;
    const double radius2 = p->radius2, eps2 = eps * eps;
    const vl cap = (vl){0} + p->cap;
    for (int v = 0; v < NV; v++) {
        vd x = s->A[v], y = s->B[v];
        vl since = s->T[v] - s->TC[v];
        vd r2 = x * x + y * y;
        vd g = lr * (0.5 * (x * x - eps * y * y) - target);
        vd jump2 = g * g * (x * x + eps2 * y * y);
        vd dx = x - s->CA[v], dy = y - s->CB[v];
        vl conv = jump2 <= p->jtol2 * (p->jshift + r2);
        vl cyc = (dx * dx + dy * dy <= p->rtol2 * jump2) & (jump2 <= 4.0 * radius2);
        vl due = since >= s->EV[v];
        vl ev2 = s->EV[v] + s->EV[v];
        s->TC[v] = seli(due, s->T[v], s->TC[v]);
        s->EV[v] = seli(due, seli(ev2 < cap, ev2, cap), s->EV[v]);
        s->CA[v] = sel(due, x, s->CA[v]);
        s->CB[v] = sel(due, y, s->CB[v]);
        stopm[v] = s->ST[v];
        convm[v] = conv;
        cycm[v] = cyc;
        sincev[v] = since;
    }
}

/* Write out lane's result if it stopped; return 1 if it did. */
static inline int write_stopped(const problem *p, const lanes *s, int lane, vl stop, vl conv,
                                vl cyc, vl since, results *out) {
    int v = lane / W, l = lane % W;
    double x = s->A[v][l], y = s->B[v][l];
    long j = s->idx[lane], cnt = s->CNT[v][l];
    if (stop[l]) {
        if (!(x * x + y * y <= p->radius2)) put(out, j, DIVERGED, 0, cnt, x, y, NAN);
        else put(out, j, CONVERGED, 1, cnt, x, y, NAN);
        return 1;
    }
    if (conv[l]) {
        put(out, j, CONVERGED, 1, cnt, x, y, NAN);
        return 1;
    }
    if (cyc[l]) {
        put(out, j, PERIODIC, (int)since[l], cnt, x, y, NAN);
        return 1;
    }
    return 0;
}

typedef struct {
    const problem *p;
    results *out;
    pool q;
    lanes main, window;
    int main_active;
} worker;

static void window_round(worker *w);

/* Point q is at time t with t + BLOCK_STEPS > t_lyap: run the short block up to the window
 * alone, then give it to the window set (running the set while it is full). */
static void enter_window(worker *w, point *q) {
    const problem *p = w->p;
    while (q->t < p->t_lyap)
        if (point_block(p, q, w->out)) return;
    if (p->steps - q->t < BLOCK_STEPS) {
        run_point(p, q, w->out);
        return;
    }
    q->va = 1.0;
    q->vb = 0.0;
    q->lsum = 0.0;
    while (w->window.nfree == 0) window_round(w);
    set_lane(&w->window, w->window.free[--w->window.nfree], q);
}

/* Give lane of the main set the next grid point (or leave it empty). */
static void refill(worker *w, int lane) {
    const problem *p = w->p;
    long j;
    double x0, y0;
    while (take(p, &w->q, &j, &x0, &y0)) {
        point q = {x0, y0, x0, y0, 1.0, 0.0, 0.0, 0, 0, p->first_every, 0, j};
        if (BLOCK_STEPS <= p->t_lyap) {
            set_lane(&w->main, lane, &q);
            return;
        }
        enter_window(w, &q);
    }
    int v = lane / W, l = lane % W;
    w->main.A[v][l] = w->main.B[v][l] = 0.0;
    w->main.ST[v][l] = -1;
    w->main.idx[lane] = -1;
    w->main_active--;
}

static void main_round(worker *w) {
    const problem *p = w->p;
    lanes *s = &w->main;
    vl stop[NV], conv[NV], cyc[NV], since[NV];
    round_steps(p, s, 0);
    block_end(p, s, stop, conv, cyc, since);
    const long last_start = p->t_lyap - BLOCK_STEPS;
    for (int v = 0; v < NV; v++) {
        unsigned m = bits(stop[v] | conv[v] | cyc[v] | (s->T[v] > last_start));
        while (m) {
            int l = __builtin_ctz(m);
            m &= m - 1;
            int lane = v * W + l;
            if (s->idx[lane] < 0) continue;
            if (!write_stopped(p, s, lane, stop[v], conv[v], cyc[v], since[v], w->out)) {
                point q = get_lane(s, lane);
                enter_window(w, &q);
            }
            refill(w, lane);
        }
    }
}

static void window_round(worker *w) {
    const problem *p = w->p;
    lanes *s = &w->window;
    vl stop[NV], conv[NV], cyc[NV], since[NV];
    round_steps(p, s, 1);
    for (int lane = 0; lane < L; lane++) {
        int v = lane / W, l = lane % W;
        if (s->idx[lane] < 0) {
            s->VA[v][l] = 1.0;
            s->VB[v][l] = 0.0;
            continue;
        }
        double va = s->VA[v][l], vb = s->VB[v][l], nrm = sqrt(va * va + vb * vb);
        s->lsum[lane] += log(nrm);
        s->VA[v][l] = va / nrm;
        s->VB[v][l] = vb / nrm;
    }
    block_end(p, s, stop, conv, cyc, since);
    const long last_start = p->steps - BLOCK_STEPS;
    for (int v = 0; v < NV; v++) {
        unsigned m = bits(stop[v] | conv[v] | cyc[v] | (s->T[v] > last_start));
        while (m) {
            int l = __builtin_ctz(m);
            m &= m - 1;
            int lane = v * W + l;
            if (s->idx[lane] < 0) continue;
            if (!write_stopped(p, s, lane, stop[v], conv[v], cyc[v], since[v], w->out)) {
                point q = get_lane(s, lane);
                run_point(p, &q, w->out);   /* the last (short) block and the end */
            }
            clear_lane(s, lane);
        }
    }
}

static void sweep(const problem *p, results *out) {
    worker *w = aligned_alloc(64, (sizeof(worker) + 63) / 64 * 64);
    memset(w, 0, sizeof(worker));
    w->p = p;
    w->out = out;
    w->window.nfree = 0;
    for (int lane = L - 1; lane >= 0; lane--) clear_lane(&w->window, lane);
    w->main.nfree = 0;
    w->main_active = L;
    for (int lane = 0; lane < L; lane++) {
        int v = lane / W, l = lane % W;
        w->main.VA[v][l] = 1.0;
        refill(w, lane);
    }
    while (w->main_active > 0) main_round(w);
    while (w->window.nfree < L) window_round(w);
    free(w);
}

int main(int argc, char **argv) {
    problem p = parse_problem(argc, argv);
    long n = p.n1 * p.n2;
    results out = alloc_results(n);
    memset(out.code, -1, n);
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    shared_next = 0;
#pragma omp parallel
    sweep(&p, &out);
    double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    for (long i = 0; i < n; i++)
        if (out.code[i] < 0) { fprintf(stderr, "point %ld has no result\n", i); return 1; }
    report(n, &out, wall, cpu);
    return 0;
}
