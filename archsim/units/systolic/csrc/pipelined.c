/* The pipelined systolic array's register model, clock edge by clock edge: the compiled twin of
 * `simulate` in archsim/units/systolic/pipelined.py (os and ws; is runs as ws on the transpose).
 *
 * Every register, input and output-port rule is the Python model's, written per PE instead of per
 * array; tests/units/test_pipelined_native.py holds outputs, fold ends, cycle counts and the
 * recorded per-PE trace equal to the Python model's. Arithmetic is unsigned 64-bit (numpy's int64
 * wraps the same way) and accumulators wrap to `bits` as `wrap()` does.
 *
 * The inputs of PE (i, j) in state s are the lane values the controller issued at c = s - 1 - i - j,
 * so they are computed once per anti-diagonal d = i + j. Rows are updated bottom-up in place, so
 * a register that takes the value of the PE above reads it before that PE's update.
 *
 * With kp MACs per PE every lane value is kp consecutive terms (innermost in the operand arrays)
 * and a PE adds their kp-term dot product; ws PEs hold kp weights. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;
typedef uint64_t u64;

/* parameter slots, in native.py's PARAMS order */
enum { P_R, P_C, P_PERIOD, P_T, P_FCN, P_FOLDS, P_BITS, P_M, P_N, P_CAP, P_KPE, P_COUNT };

typedef struct {
    i64 R, C, P, T, fc_n, n;        /* n: controller states = folds * P */
} ctl_t;

/* _Controller.at: (ok, t, fr, fc) of controller state c; t = fr = fc = 0 outside the run */
static inline int ctl_at(const ctl_t *k, i64 c, i64 *t, i64 *fr, i64 *fc) {
    int ok = c >= 0 && c < k->n;
    i64 cc = ok ? c : 0, f = cc / k->P;
    *t = cc % k->P;
    *fr = f / k->fc_n;
    *fc = f % k->fc_n;
    return ok;
}

/* The controller's outputs for states c = s - e, e = 0..E-1 (E = R + C: every PE's row lane at
 * e = i + j + 1, the ws weight-load lane of column j at e = j). From state s to s + 1 entry e
 * becomes entry e + 1, so each edge shifts by one and asks the controller once. */
typedef struct {
    i64 E, *t, *fr, *fc;
    uint8_t *ok;
} hist_t;

static int hist_new(hist_t *h, i64 E) {
    h->E = E;
    h->t = calloc((size_t)E, sizeof(i64));
    h->fr = calloc((size_t)E, sizeof(i64));
    h->fc = calloc((size_t)E, sizeof(i64));
    h->ok = calloc((size_t)E, 1);             /* all zero: states before the start are not ok */
    return h->t && h->fr && h->fc && h->ok;
}

static void hist_free(hist_t *h) {
    free(h->t); free(h->fr); free(h->fc); free(h->ok);
}

static void hist_advance(hist_t *h, const ctl_t *k, i64 s) {   /* entry 0 becomes state c = s */
    if (s > 0) {
        memmove(h->t + 1, h->t, (size_t)(h->E - 1) * sizeof(i64));
        memmove(h->fr + 1, h->fr, (size_t)(h->E - 1) * sizeof(i64));
        memmove(h->fc + 1, h->fc, (size_t)(h->E - 1) * sizeof(i64));
        memmove(h->ok + 1, h->ok, (size_t)(h->E - 1));
    }
    h->ok[0] = (uint8_t)ctl_at(k, s, &h->t[0], &h->fr[0], &h->fc[0]);
}

static inline i64 wrapv(u64 x, i64 bits) {
    if (bits >= 64) return (i64)x;
    u64 half = (u64)1 << (bits - 1);
    return (i64)((x + half) & (2 * half - 1)) - (i64)half;
}

typedef struct {                   /* what `record=True` keeps per state (NULL: not recorded) */
    i64 *acc;                      /* states x R x C */
    uint8_t *valid;                /* states x R x C */
    uint8_t *out_valid;            /* states x C */
    i64 *out_data;                 /* states x C */
    uint8_t *done;                 /* states */
} trace_t;

static void record(const trace_t *tr, i64 s, i64 R, i64 C, const i64 *acc, const uint8_t *vd,
                   const uint8_t *ov, const i64 *o, int done) {
    if (!tr->acc) return;
    memcpy(tr->acc + s * R * C, acc, (size_t)(R * C) * sizeof(i64));
    for (i64 i = 0; i < R; i++)
        memcpy(tr->valid + (s * R + i) * C, vd + i, (size_t)C);
    for (i64 j = 0; j < C; j++) {
        tr->out_valid[s * C + j] = ov[j];
        tr->out_data[s * C + j] = o[j];
    }
    tr->done[s] = (uint8_t)done;
}

/* the PE's kp multipliers and adder tree, and a copy of its kp weights (kp = 1: one MAC, the hot path) */
static inline u64 dot(const i64 *a, const i64 *b, i64 kp) {
    if (kp == 1) return (u64)a[0] * (u64)b[0];
    u64 sum = 0;
    for (i64 k = 0; k < kp; k++) sum += (u64)a[k] * (u64)b[k];
    return sum;
}

static inline void copyv(i64 *dst, const i64 *src, i64 kp) {
    if (kp == 1) *dst = *src;
    else memcpy(dst, src, (size_t)kp * sizeof(i64));
}

/* The row loops below are called as f(..., 1) or f(..., kp): inlined, the one-MAC array's loop is
 * compiled with kp = 1 constant, as fast as before multi-MAC PEs. */
#define INLINE static inline __attribute__((always_inline))

/* ws: the valid PEs j0..j1-1 of row i (psum row ar, weights wr, shadow wsr) */
INLINE void ws_row(i64 *ar, i64 *wr, const i64 *wsr, const i64 *X, const i64 *xo, const uint8_t *fsd,
                   i64 i, i64 P, i64 j0, i64 j1, i64 kp, i64 bits) {
    for (i64 j = j0; j < j1; j++) {
        i64 d = i + j;
        i64 *wj = wr + j * kp;
        if (fsd[d]) copyv(wj, wsr + j * kp, kp);  /* a fold's first element uses the new tile */
        ar[j] = wrapv((u64)ar[j] + dot(X + (xo[d] + i * P) * kp, wj, kp), bits);
    }
}

/* Weight-stationary: X (fr_n*R x P x kp, row lane r carries A[t, r*kp + k]; zero beyond t = T),
 * W (fr_n*R x fc_n*C x kp).
 * Returns total cycles, or -1 when no end came within prm[P_CAP] states.
 *
 * The psum registers shift down one row every edge, so they live in a buffer whose rows rotate:
 * logical row i of state s is physical row (i - s) mod R, and the shift costs nothing. A PE whose
 * input is not valid this edge holds a = 0 (outside the run, or a padded lane t >= T) and no
 * fold start, so its psum is the one from above (already wrapped) and its weights stay: only PEs
 * on valid anti-diagonals are computed. */
i64 archsim_systolic_ws(const i64 *prm, const i64 *X, const i64 *W, i64 *out, i64 *ends,
                        i64 *tr_acc, uint8_t *tr_valid, uint8_t *tr_ov, i64 *tr_o, uint8_t *tr_done) {
    const i64 R = prm[P_R], C = prm[P_C], P = prm[P_PERIOD], T = prm[P_T], fc_n = prm[P_FCN];
    const i64 folds = prm[P_FOLDS], bits = prm[P_BITS], N = prm[P_N], cap = prm[P_CAP], kp = prm[P_KPE];
    const i64 D = R + C - 1, WC = fc_n * C;
    const ctl_t k = {R, C, P, T, fc_n, folds * P};
    const trace_t tr = {tr_acc, tr_valid, tr_ov, tr_o, tr_done};
    i64 *w = calloc((size_t)(R * C * kp), sizeof(i64)), *ws = calloc((size_t)(R * C * kp), sizeof(i64));
    i64 *acc = calloc((size_t)(R * C), sizeof(i64)), *xo = calloc((size_t)D, sizeof(i64));
    i64 *logical = tr.acc ? calloc((size_t)(R * C), sizeof(i64)) : NULL;
    i64 *wl = calloc((size_t)(C * kp), sizeof(i64)), *hit = calloc((size_t)C, sizeof(i64));
    i64 *emitted = calloc((size_t)C, sizeof(i64)), *runs = calloc((size_t)(D + 1), sizeof(i64));
    uint8_t *vd = calloc((size_t)D, 1), *ld = calloc((size_t)D, 1);
    uint8_t *fsd = calloc((size_t)D, 1), *pv = calloc((size_t)C, 1), *pl = calloc((size_t)C, 1);
    hist_t h;
    i64 s = 0, nends = 0, result = -1;
    if (!hist_new(&h, D + 1) || !w || !ws || !acc || !xo || (tr.acc && !logical) || !wl || !hit || !emitted || !runs || !vd
        || !ld || !fsd || !pv || !pl)
        goto done;
    for (;; s++) {
        /* inputs(s): the row lanes per anti-diagonal, the weight-load lane per column */
        i64 nruns = 0;
        hist_advance(&h, &k, s);
        for (i64 d = 0; d < D; d++) {
            i64 t = h.t[d + 1], fr = h.fr[d + 1];
            int ok = h.ok[d + 1];
            xo[d] = fr * R * P + t;
            vd[d] = ok && t < T;
            ld[d] = ok && t == T - 1;
            fsd[d] = ok && t == 0;
        }
        for (i64 d = 0; d < D; d++) {                 /* runs of valid diagonals: [start, end) pairs */
            if (vd[d] && (d == 0 || !vd[d - 1])) runs[nruns++] = d;
            if (vd[d] && (d == D - 1 || !vd[d + 1])) runs[nruns++] = d + 1;
        }
        for (i64 j = 0; j < C; j++) {
            i64 tw = h.t[j], frw = h.fr[j], fcw = h.fc[j];
            int okw = h.ok[j] && tw < R;
            if (tw > R - 1) tw = R - 1;
            for (i64 q = 0; q < kp; q++)
                wl[j * kp + q] = okw ? W[((frw * R + tw) * WC + fcw * C + j) * kp + q] : 0;
            hit[j] = okw ? tw : -1;
        }
        /* the output port: bottom row's pv, acc, pl */
        const i64 *port = acc + ((R - 1 - s % R + R) % R) * C;
        if (logical)
            for (i64 i = 0; i < R; i++)
                memcpy(logical + i * C, acc + ((i - s % R + R) % R) * C, (size_t)C * sizeof(i64));
        record(&tr, s, R, C, logical, vd, pv, port, nends == folds);
        if (nends == folds) break;       /* done registered one edge after the last fold end */
        if (s >= cap) goto done;
        for (i64 j = 0; j < C; j++) {
            if (!pv[j]) continue;
            i64 kk = emitted[j]++, n = (kk / T) % fc_n * C + j;
            if (n < N) out[(kk % T) * N + n] = (i64)((u64)out[(kk % T) * N + n] + (u64)port[j]);
        }
        if (pv[C - 1] && pl[C - 1]) ends[nends++] = s;
        /* step: pv/pl hold the bottom row's input valid/last; the rows rotate to state s + 1, whose
         * row 0 (the old bottom row) receives 0 from above; w, ws, acc of the valid PEs */
        for (i64 j = 0; j < C; j++) {
            pv[j] = vd[R - 1 + j];
            pl[j] = vd[R - 1 + j] && ld[R - 1 + j];
        }
        const i64 rot = (s + 1) % R;
        memset(acc + ((R - rot) % R) * C, 0, (size_t)C * sizeof(i64));
        for (i64 r = 0; r < nruns; r += 2) {
            for (i64 i = 0; i < R; i++) {
                i64 j0 = runs[r] - i, j1 = runs[r + 1] - i;
                if (j0 < 0) j0 = 0;
                if (j1 > C) j1 = C;
                i64 *wr = w + i * C * kp, *wsr = ws + i * C * kp, *ar = acc + ((i - rot + R) % R) * C;
                if (kp == 1) ws_row(ar, wr, wsr, X, xo, fsd, i, P, j0, j1, 1, bits);
                else ws_row(ar, wr, wsr, X, xo, fsd, i, P, j0, j1, kp, bits);
            }
        }
        for (i64 j = 0; j < C; j++)
            if (hit[j] >= 0) copyv(ws + (hit[j] * C + j) * kp, wl + j * kp, kp);
    }
    result = s;
done:
    free(w); free(ws); free(acc); free(logical); free(xo); free(wl); free(hit); free(emitted); free(runs);
    free(vd); free(ld); free(fsd); free(pv); free(pl);
    hist_free(&h);
    return result;
}

/* os: the registers and this state's per-diagonal lane values that a row update reads */
typedef struct {
    i64 R, C, P, bits, *acc, *hold, *o, *ao, *bo;
    const i64 *A, *B;
    uint8_t *ov, *ol, *okd, *vd, *ld;
} os_t;

/* os: row i's PEs, updated in place (rows go bottom-up, so o/ov/ol from above are still old) */
INLINE void os_row(const os_t *g, i64 i, i64 kp) {
    const i64 R = g->R, C = g->C, P = g->P, bits = g->bits;   /* locals: the stores below cannot alias them */
    const i64 *A = g->A, *B = g->B, *ao = g->ao, *bo = g->bo;
    i64 *ar = g->acc + i * C, *hr = g->hold + i * C, *orow = g->o + i * C;
    uint8_t *ovr = g->ov + i * C, *olr = g->ol + i * C;
    const uint8_t *okd = g->okd, *vd = g->vd, *ld = g->ld;
    for (i64 j = 0; j < C; j++) {
        i64 d = i + j;
        u64 ab = okd[d] ? dot(A + (ao[d] + i * P) * kp, B + (bo[d] + j) * kp, kp) : 0;
        i64 accp = wrapv((u64)ar[j] + ab, bits);
        int cap_ij = vd[d] && ld[d];
        int load = vd[R - 1 + j] && ld[R - 1 + j];   /* bottom PE captures: column loads */
        i64 o_load = i == R - 1 ? accp : hr[j];
        if (vd[d]) ar[j] = ld[d] ? 0 : accp;
        if (cap_ij) hr[j] = accp;
        if (load) {
            orow[j] = o_load; ovr[j] = 1; olr[j] = i == 0;
        } else if (i) {
            orow[j] = orow[j - C]; ovr[j] = ovr[j - C]; olr[j] = olr[j - C];
        } else {
            orow[j] = 0; ovr[j] = 0; olr[j] = 0;
        }
    }
}

/* Output-stationary: A (fr_n*R x P x kp), B (P x fc_n*C x kp). Returns as archsim_systolic_ws. */
i64 archsim_systolic_os(const i64 *prm, const i64 *A, const i64 *B, i64 *out, i64 *ends,
                        i64 *tr_acc, uint8_t *tr_valid, uint8_t *tr_ov, i64 *tr_o, uint8_t *tr_done) {
    const i64 R = prm[P_R], C = prm[P_C], P = prm[P_PERIOD], T = prm[P_T], fc_n = prm[P_FCN];
    const i64 folds = prm[P_FOLDS], bits = prm[P_BITS], M = prm[P_M], N = prm[P_N], cap = prm[P_CAP];
    const i64 kp = prm[P_KPE], D = R + C - 1, BC = fc_n * C;
    const ctl_t k = {R, C, P, T, fc_n, folds * P};
    const trace_t tr = {tr_acc, tr_valid, tr_ov, tr_o, tr_done};
    i64 *acc = calloc((size_t)(R * C), sizeof(i64)), *hold = calloc((size_t)(R * C), sizeof(i64));
    i64 *o = calloc((size_t)(R * C), sizeof(i64)), *ao = calloc((size_t)D, sizeof(i64));
    i64 *bo = calloc((size_t)D, sizeof(i64)), *emitted = calloc((size_t)C, sizeof(i64));
    uint8_t *ov = calloc((size_t)(R * C), 1), *ol = calloc((size_t)(R * C), 1);
    uint8_t *okd = calloc((size_t)D, 1), *vd = calloc((size_t)D, 1), *ld = calloc((size_t)D, 1);
    const os_t g = {R, C, P, bits, acc, hold, o, ao, bo, A, B, ov, ol, okd, vd, ld};
    hist_t h;
    i64 s = 0, nends = 0, result = -1;
    if (!hist_new(&h, D + 1) || !acc || !hold || !o || !ao || !bo || !emitted || !ov || !ol || !okd || !vd || !ld) goto done;
    for (;; s++) {
        hist_advance(&h, &k, s);
        for (i64 d = 0; d < D; d++) {
            i64 t = h.t[d + 1], fr = h.fr[d + 1], fc = h.fc[d + 1];
            int ok = h.ok[d + 1];
            okd[d] = (uint8_t)ok;
            ao[d] = fr * R * P + t;
            bo[d] = t * BC + fc * C;
            vd[d] = ok && t < T;
            ld[d] = ok && t == T - 1;
        }
        const i64 *po = o + (R - 1) * C;
        const uint8_t *pov = ov + (R - 1) * C, *pol = ol + (R - 1) * C;
        record(&tr, s, R, C, acc, vd, pov, po, nends == folds);
        if (nends == folds) break;
        if (s >= cap) goto done;
        for (i64 j = 0; j < C; j++) {
            if (!pov[j]) continue;
            i64 kk = emitted[j]++, f = kk / R;           /* fold k // R, rows leave bottom first */
            i64 m = f / fc_n * R + R - 1 - kk % R, n = f % fc_n * C + j;
            if (m < M && n < N) out[m * N + n] = po[j];
        }
        if (pov[C - 1] && pol[C - 1]) ends[nends++] = s;
        for (i64 i = R - 1; i >= 0; i--) {
            if (kp == 1) os_row(&g, i, 1);
            else os_row(&g, i, kp);
        }
    }
    result = s;
done:
    free(acc); free(hold); free(o); free(ao); free(bo); free(emitted); free(ov); free(ol);
    free(okd); free(vd); free(ld);
    hist_free(&h);
    return result;
}
