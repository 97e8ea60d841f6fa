/* The DRAM level, compiled: the twin of level.py's engine plumbing (wake-ups, per-channel FIFOs or the
 * in-order trace front end, back-pressure, run-ahead) and of the engine's (time, sequence) order, with
 * two drivers: `archsim_replay` replays a whole trace; `archsim_dram_*` are driven incrementally by the
 * Python engine (submit a request, run the wake-ups that come before the engine's next event, collect
 * completions), using the engine's own sequence numbers so every tie breaks as in Python. */
#include "core.h"

static i64 max64(i64 a, i64 b) { return a > b ? a : b; }

/* ---- growable storage ---------------------------------------------------------------------- */

static int grow(i64 **arrs[], int n, i64 *cap, i64 need) {
    if (need <= *cap) return 0;
    i64 c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    for (int k = 0; k < n; k++) {
        i64 *p = realloc(*arrs[k], (size_t)c * sizeof(i64));
        if (!p) return -1;
        *arrs[k] = p;
    }
    *cap = c;
    return 0;
}

static i64 new_burst(Sim *s) {
    if (s->free_b >= 0) { i64 t = s->free_b; s->free_b = s->b_next[t]; return t; }
    i64 **a[] = {&s->b_ch, &s->b_bank, &s->b_row, &s->b_write, &s->b_seq, &s->b_cause, &s->b_next,
                 &s->b_arrive, &s->b_req};
    if (grow(a, 9, &s->nb_cap, s->nb_used + 1)) return -1;
    return s->nb_used++;
}

static i64 new_request(Sim *s) {
    if (s->free_r >= 0) { i64 r = s->free_r; s->free_r = s->r_left[r]; return r; }
    i64 **a[] = {&s->r_left, &s->r_done, &s->r_cb};
    if (grow(a, 3, &s->nr_cap, s->nr_used + 1)) return -1;
    return s->nr_used++;
}

static int push3(Sim *s, i64 a, i64 b, i64 c) {
    i64 **arr[] = {&s->done};
    if (grow(arr, 1, &s->cap_done, 3 * s->ndone + 3)) return -1;
    s->done[3 * s->ndone] = a, s->done[3 * s->ndone + 1] = b, s->done[3 * s->ndone + 2] = c;
    s->ndone++;
    return 0;
}

/* DramLevel._txn_done: count the burst; a request whose last burst is done is scheduled at its data
 * cycle with the engine's next sequence number (when it has a callback), which may end this call early */
int dram_burst_done(Sim *s, i64 t, i64 done) {
    if (s->b_write[t]) s->nwrite++;
    else {
        i64 **a[] = {&s->lat};
        if (grow(a, 1, &s->cap_lat, s->nlat + 1)) return -1;
        s->nread++, s->lat[s->nlat++] = done - s->b_arrive[t];
    }
    if (done > s->last_cycle) s->last_cycle = done;
    i64 r = s->b_req[t];
    if (s->recycle) s->b_next[t] = s->free_b, s->free_b = t;
    if (r < 0) return 0;
    if (done > s->r_done[r]) s->r_done[r] = done;
    if (--s->r_left[r]) return 0;
    i64 seq = s->r_cb[r] ? ++s->eseq : 0;
    if (push3(s, r, s->r_done[r], seq)) return -1;
    if (seq && (s->r_done[r] < s->lim.t || (s->r_done[r] == s->lim.t && seq < s->lim.seq)))
        s->lim.t = s->r_done[r], s->lim.seq = seq;
    s->r_left[r] = s->free_r, s->free_r = r;
    return 0;
}

/* ---- engine: a heap of (cycle, sequence) wake-ups ------------------------------------------ */

static int ev_less(const Event *a, const Event *b) {
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(Sim *s, i64 t, i64 ch) {
    if (s->nheap == s->cap_heap) {
        Event *h = realloc(s->heap, (size_t)(s->cap_heap ? 2 * s->cap_heap : 64) * sizeof(Event));
        if (!h) return -1;
        s->heap = h, s->cap_heap = s->cap_heap ? 2 * s->cap_heap : 64;
    }
    Event e = {t, ++s->eseq, ch};
    i64 k = s->nheap++;
    while (k > 0 && ev_less(&e, &s->heap[(k - 1) / 2])) {
        s->heap[k] = s->heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    s->heap[k] = e;
    return 0;
}

static Event heap_pop(Sim *s) {
    Event top = s->heap[0], last = s->heap[--s->nheap];
    i64 k = 0, n = s->nheap;
    for (;;) {
        i64 m = 2 * k + 1;
        if (m >= n) break;
        if (m + 1 < n && ev_less(&s->heap[m + 1], &s->heap[m])) m++;
        if (!ev_less(&s->heap[m], &last)) break;
        s->heap[k] = s->heap[m];
        k = m;
    }
    if (n) s->heap[k] = last;
    return top;
}

/* ---- level: wake-ups, admission, run-ahead ------------------------------------------------- */

static int wake(Sim *s, i64 chi, i64 cycle) {
    Chan *c = &s->ch[chi];
    if (c->wake_at != NONE && c->wake_at <= cycle) return 0;
    c->wake_at = cycle;
    return c->running ? 0 : heap_push(s, cycle, chi);
}

static int enqueue(Sim *s, i64 chi, i64 t, i64 now) {
    Chan *c = &s->ch[chi];
    if (!c->q[0].n && !c->q[1].n) dram_catch_up_refresh(s, chi, now);
    s->b_seq[t] = ++c->seq;
    dram_q_push(s, &c->q[s->b_write[t] ? 1 : 0], t);
    return wake(s, chi, max64(now, dram_bus_free(s, c)));
}

static int admit(Sim *s, i64 chi, i64 cycle) {
    Chan *c = &s->ch[chi];
    while (c->pend_head >= 0) {
        i64 t = c->pend_head;
        Queue *q = &c->q[s->b_write[t] ? 1 : 0];
        if (q->n >= q->size) return 0;
        c->pend_head = s->b_next[t];
        if (c->pend_head < 0) c->pend_tail = -1;
        s->b_arrive[t] = cycle;
        if (enqueue(s, chi, t, cycle)) return -1;
    }
    return 0;
}

/* DramLevel._admit_in_order: in trace order, at most P_PER_CYCLE a cycle, head-of-line blocking */
static int admit_in_order(Sim *s, i64 cycle) {
    i64 lim = s->par[P_PER_CYCLE];
    if (cycle != s->fe_cycle) { s->fe_cycle = cycle; s->fe_used = 0; }
    while (s->fe_head < s->fe_end) {
        if (lim && s->fe_used >= lim) {             /* spent: retry next cycle (event channel -1) */
            if (s->fe_tick >= cycle + 1) return 0;
            return s->fe_tick = cycle + 1, heap_push(s, cycle + 1, -1);
        }
        i64 t = s->fe_head, chi = s->b_ch[t];
        Queue *q = &s->ch[chi].q[s->b_write[t] ? 1 : 0];
        if (q->n >= q->size) return 0;
        s->fe_head++, s->fe_used++;
        s->b_arrive[t] = cycle;
        if (enqueue(s, chi, t, cycle)) return -1;
    }
    return 0;
}

/* DramLevel._on_wake: step while the channel's next wake comes before every other event (s->lim is
 * the first event outside this core, lowered by the completions this call schedules) */
static int on_wake(Sim *s, i64 chi, i64 cycle) {
    Chan *c = &s->ch[chi];
    if (c->wake_at != cycle) return 0;               /* superseded by an earlier wake */
    c->running = 1;
    for (;;) {
        c->wake_at = dram_step(s, chi, cycle);
        if (c->pend_head >= 0) {
            Queue *q = &c->q[s->b_write[c->pend_head] ? 1 : 0];
            if (q->n < q->size && admit(s, chi, cycle)) return -1;
        } else if (s->fe_head < s->fe_end && s->b_ch[s->fe_head] == chi && admit_in_order(s, cycle)) {
            return -1;
        }
        i64 nxt = c->wake_at;
        if (nxt == NONE) break;
        i64 other = s->nheap && s->heap[0].t < s->lim.t ? s->heap[0].t : s->lim.t;
        if (other <= nxt) {                          /* another event comes first: yield to it */
            if (heap_push(s, nxt, chi)) return -1;
            break;
        }
        cycle = nxt;
    }
    c->running = 0;
    return 0;
}

/* DramLevel.submit: bursts first .. first+n-1 (ids[k] when given) join their channels' FIFOs */
static int submit(Sim *s, const i64 *ids, i64 first, i64 n, i64 now) {
    if (s->par[P_IN_ORDER]) { s->fe_end = first + n; return admit_in_order(s, now); }  /* sets b_arrive */
    for (i64 k = 0; k < n; k++) {
        i64 t = ids ? ids[k] : first + k;
        Chan *c = &s->ch[s->b_ch[t]];
        s->b_arrive[t] = now;
        s->b_next[t] = -1;
        if (c->pend_tail >= 0) s->b_next[c->pend_tail] = t;
        else c->pend_head = t;
        c->pend_tail = t;
    }
    if (n == 1) return admit(s, s->b_ch[ids ? ids[0] : first], now);
    for (i64 k = 0; k < n; k++) s->touched[s->b_ch[ids ? ids[k] : first + k]] = 1;
    for (i64 ch = 0; ch < s->par[P_CHANNELS]; ch++)
        if (s->touched[ch]) {
            s->touched[ch] = 0;
            if (admit(s, ch, now)) return -1;
        }
    return 0;
}

/* ---- setup --------------------------------------------------------------------------------- */

static void *take(char **pool, i64 n) {
    void *p = *pool;
    *pool += n * 8;
    return p;
}

static void sim_free(Sim *s) {
    if (!s) return;
    i64 *arrs[] = {s->b_ch, s->b_bank, s->b_row, s->b_write, s->b_seq, s->b_cause, s->b_next, s->b_arrive,
                   s->b_req, s->r_left, s->r_done, s->r_cb, s->done, s->lat};
    for (size_t k = 0; k < sizeof arrs / sizeof *arrs; k++) free(arrs[k]);
    free(s->heap); free(s->ch); free(s->touched); free(s->pool); free(s);
}

static Sim *sim_new(const i64 *par, i64 *st, const i64 *upd_ptr, const i64 *upd, const i64 *na_off,
                    const i64 *ch_bus_off, const i64 *bus_of, const i64 *win, const i64 *ref_due) {
    Sim *s = calloc(1, sizeof(Sim));
    if (!s) return NULL;
    memcpy(s->par, par, sizeof s->par);
    s->st = st; s->upd_ptr = upd_ptr; s->upd = upd; s->bus_of = bus_of; s->win = win;
    i64 nch = par[P_CHANNELS], nb = s->nbanks = par[P_BANKS], ranks = s->ranks = par[P_RANKS];
    s->bpr = nb / ranks;
    i64 nw = par[P_WINDOWS], wslots = 0;
    for (i64 w = 0; w < nw; w++) wslots += ranks * win[3 * w + 1];
    i64 qcap = (par[P_READ_QUEUE] > 0 ? par[P_READ_QUEUE] : 1) + (par[P_WRITE_QUEUE] > 0 ? par[P_WRITE_QUEUE] : 1);
    i64 per_ch = nb * (qcap + 12 + NCMD) + 3 * ranks + 2 * nw * ranks + wslots + NCMD + 3;
    s->pool = calloc((size_t)(nch * per_ch + 8), 8);
    s->ch = calloc((size_t)nch, sizeof(Chan));
    s->touched = calloc((size_t)nch, 1);
    s->free_b = s->free_r = -1;
    s->fe_tick = -1;
    if (!s->pool || !s->ch || !s->touched) { sim_free(s); return NULL; }
    char *pool = s->pool;
    for (i64 k = 0; k < nch; k++) {
        Chan *c = &s->ch[k];
        for (int qi = 0; qi < 2; qi++) {
            Queue *q = &c->q[qi];
            q->size = par[qi ? P_WRITE_QUEUE : P_READ_QUEUE];
            q->is_write = qi;
            i64 cap = q->size > 0 ? q->size : 1;
            q->lst = take(&pool, nb * cap); q->len = take(&pool, nb); q->act = take(&pool, nb);
            q->cand_c = take(&pool, nb); q->cand_t = take(&pool, nb); q->on = take(&pool, nb);
            for (i64 b = 0; b < nb; b++) q->cand_c[b] = -1;
        }
        c->open_row = take(&pool, nb); c->opener = take(&pool, nb); c->e_lb = take(&pool, nb * NCMD);
        c->ref_due = take(&pool, ranks); c->ref_bank = take(&pool, ranks); c->blk = take(&pool, ranks);
        c->win_head = take(&pool, nw * ranks); c->win_len = take(&pool, nw * ranks);
        c->win_buf = take(&pool, wslots); c->counts = take(&pool, NCMD + 3);
        c->na_off = na_off + k * 3 * nb;
        c->ch_off = ch_bus_off[3 * k]; c->bus_off = ch_bus_off[3 * k + 1]; c->own_bus_off = ch_bus_off[3 * k + 2];
        c->ref_next = INF;
        for (i64 b = 0; b < nb; b++) c->open_row[b] = c->opener[b] = -1;
        for (i64 r = 0; r < ranks; r++) {
            c->ref_due[r] = ref_due[k * ranks + r];
            if (c->ref_due[r] < c->ref_next) c->ref_next = c->ref_due[r];
        }
        c->wake_at = NONE; c->pend_head = c->pend_tail = -1;
    }
    return s;
}

static void counts_out(Sim *s, i64 *out_counts, i64 *ref_due, i64 *tot) {
    for (i64 k = 0; k < s->par[P_CHANNELS]; k++) {   /* counts, and each rank's next refresh due */
        memcpy(out_counts + k * (NCMD + 3), s->ch[k].counts, (NCMD + 3) * sizeof(i64));
        memcpy(ref_due + k * s->ranks, s->ch[k].ref_due, (size_t)s->ranks * sizeof(i64));
    }
    tot[0] = s->nread; tot[1] = s->nwrite; tot[2] = s->last_cycle; tot[3] = s->nlat;
}

/* ---- whole-trace replay -------------------------------------------------------------------- */

/* Replay requests (sorted by arrival cycle; request j owns bursts req_burst[j] .. req_burst[j+1]-1).
 * Outputs: read latencies in completion order, per channel NCMD command counts + hits, misses,
 * conflicts, each rank's next refresh due time (into ref_due), and totals (reads, writes, last data
 * cycle, latencies, last event cycle). Returns 0, or -1 when memory runs out. */
int archsim_replay(const i64 *par, i64 *st, const i64 *upd_ptr, const i64 *upd, const i64 *na_off,
                   const i64 *ch_bus_off, const i64 *bus_of, const i64 *win, i64 *ref_due,
                   i64 nreq, const i64 *req_cycle, const i64 *req_burst,
                   const i64 *b_ch, const i64 *b_bank, const i64 *b_row, const i64 *b_write,
                   i64 *out_lat, i64 *out_counts, i64 *out_tot) {
    Sim *s = sim_new(par, st, upd_ptr, upd, na_off, ch_bus_off, bus_of, win, ref_due);
    i64 nburst = req_burst[nreq];
    if (!s) return -1;
    for (i64 t = 0; t < nburst; t++)
        if (new_burst(s) < 0) { sim_free(s); return -1; }
    memcpy(s->b_ch, b_ch, (size_t)nburst * 8); memcpy(s->b_bank, b_bank, (size_t)nburst * 8);
    memcpy(s->b_row, b_row, (size_t)nburst * 8); memcpy(s->b_write, b_write, (size_t)nburst * 8);
    for (i64 t = 0; t < nburst; t++) s->b_req[t] = -1, s->b_cause[t] = 0;
    int err = 0;
    i64 j = 0, last_event = 0;
    for (; j < nreq && req_cycle[j] <= 0 && !err; j++)       /* submitted before the engine runs */
        err = submit(s, NULL, req_burst[j], req_burst[j + 1] - req_burst[j], 0);
    i64 arr_seq = s->eseq + 1;                                  /* arrivals are scheduled next, in order */
    s->eseq += nreq - j;
    while (!err && (s->nheap || j < nreq)) {
        int arrival = j < nreq && (!s->nheap || req_cycle[j] < s->heap[0].t
                                   || (req_cycle[j] == s->heap[0].t && arr_seq < s->heap[0].seq));
        if (arrival) {
            last_event = req_cycle[j];
            err = submit(s, NULL, req_burst[j], req_burst[j + 1] - req_burst[j], req_cycle[j]);
            j++, arr_seq++;
        } else {
            Event e = heap_pop(s);
            last_event = e.t;
            s->lim.t = j < nreq ? req_cycle[j] : INF;
            s->lim.seq = arr_seq;
            err = e.ch < 0 ? admit_in_order(s, e.t) : on_wake(s, e.ch, e.t);
        }
    }
    err |= (int)s->err;
    counts_out(s, out_counts, ref_due, out_tot);
    if (!err) memcpy(out_lat, s->lat, (size_t)s->nlat * 8);
    out_tot[4] = last_event;
    sim_free(s);
    return err ? -1 : 0;
}

/* ---- incremental driving by the Python engine ------------------------------------------------
 * io: [0] the engine's sequence counter (in and out), [1] [2] the engine's next event as (cycle, seq)
 * (seq -1: between clock edges, before anything at that cycle), out: [3] [4] our next wake-up as
 * (cycle, seq) or cycle -1, [5] completions in this call, [6] the submitted request's slot (submit)
 * or the cycle of the last wake-up run (run; -1: none), [7] wake-ups run so far. */

static void io_out(Sim *s, i64 *io) {
    io[0] = s->eseq;
    io[3] = s->nheap ? s->heap[0].t : -1;
    io[4] = s->nheap ? s->heap[0].seq : -1;
    io[5] = s->ndone;
    io[7] = s->steps;
}

void *archsim_dram_new(const i64 *par, i64 *st, const i64 *upd_ptr, const i64 *upd, const i64 *na_off,
                       const i64 *ch_bus_off, const i64 *bus_of, const i64 *win, const i64 *ref_due) {
    Sim *s = sim_new(par, st, upd_ptr, upd, na_off, ch_bus_off, bus_of, win, ref_due);
    if (s) s->recycle = 1;
    return s;
}

void archsim_dram_free(void *h) { sim_free(h); }

/* decode bursts as AddressMapping.decode: map = 6 (shift, mask) pairs (ch ra bg ba ro co), xor hash,
 * bank-group width, burst bytes, bank groups, banks per group, banks per rank */
int archsim_dram_submit(void *h, const i64 *map, i64 now, i64 addr, i64 nbytes, i64 is_write, i64 has_cb,
                        i64 *io) {
    Sim *s = h;
    s->eseq = io[0];
    s->ndone = 0;
    i64 bb = map[14], first = addr / bb, last = (addr + nbytes - 1) / bb, n = last - first + 1;
    i64 r = new_request(s);
    if (r < 0) return -1;
    s->r_left[r] = n, s->r_done[r] = 0, s->r_cb[r] = has_cb;
    i64 *ids = malloc((size_t)n * 8);
    if (!ids) return -1;
    for (i64 k = 0; k < n; k++) {
        i64 a = (first + k) * bb, t = ids[k] = new_burst(s);
        if (t < 0) { free(ids); return -1; }
        i64 f[6];
        for (int i = 0; i < 6; i++) f[i] = (a >> map[2 * i]) & map[2 * i + 1];
        i64 ro = f[4];
        if (map[12]) { f[2] ^= ro & map[5]; f[3] ^= (ro >> map[13]) & map[7]; }
        s->b_ch[t] = f[0], s->b_bank[t] = f[1] * map[17] + f[2] * map[16] + f[3], s->b_row[t] = ro;
        s->b_write[t] = is_write, s->b_cause[t] = 0, s->b_req[t] = r;
    }
    int err = submit(s, ids, 0, n, now);
    free(ids);
    io[6] = r;
    io_out(s, io);
    return err || s->err ? -1 : 0;
}

/* run our wake-ups that come before the engine's next event (and before every completion scheduled
 * meanwhile), in (cycle, sequence) order */
int archsim_dram_run(void *h, i64 *io) {
    Sim *s = h;
    s->eseq = io[0];
    s->ndone = 0;
    s->lim.t = io[1], s->lim.seq = io[2];
    int err = 0;
    io[6] = -1;
    while (!err && s->nheap) {
        Event top = s->heap[0];
        if (!(top.t < s->lim.t || (top.t == s->lim.t && top.seq < s->lim.seq))) break;
        heap_pop(s);
        s->steps++;
        io[6] = top.t;
        err = top.ch < 0 ? admit_in_order(s, top.t) : on_wake(s, top.ch, top.t);
    }
    io_out(s, io);
    return err || s->err ? -1 : 0;
}

i64 *archsim_dram_completions(void *h) { return ((Sim *)h)->done; }
i64 *archsim_dram_latencies(void *h) { return ((Sim *)h)->lat; }

void archsim_dram_stats(void *h, i64 *out_counts, i64 *ref_due, i64 *tot) { counts_out(h, out_counts, ref_due, tot); }
