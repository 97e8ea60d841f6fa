/* Trace replay through the DRAM controller, compiled: a line-for-line twin of the Python reference.
 * memory/dram/controller.py + scheduler.py (the per-channel controller) and level.py + trace.py +
 * archsim/engine.py (the trace front end, in order or per-channel FIFOs, back-pressure, run-ahead
 * wake-ups, and the event heap's (time, sequence) order) are mirrored so that every decision, and so
 * every statistic, is bit-identical to the Python model. No DRAM timing is written here: the rule
 * table arrives flattened by Controller._compile as (state index, delay) pairs, the geometry and
 * parameters as int64 arrays (memory/dram/native.py documents each slot). Time is in DRAM cycles:
 * every event of a replay falls on an edge of the level's clock. C99, libc only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;

#define INF ((i64)1 << 62)
#define NONE ((i64)-1)        /* Python None for a wake-up cycle */
#define DIRTY ((i64)-1)       /* bank whose candidate must be recomputed */
#define NO_BLOCK ((i64)-2)
enum { ACT, PRE, RD, WR, RDA, WRA, REF, REFSB, NCMD };

/* slots of the parameter array (keep in step with native.py PARAMS) */
enum { P_CHANNELS, P_RANKS, P_BANKS, P_READ_QUEUE, P_WRITE_QUEUE, P_HI, P_LO, P_CLOSED_PAGE, P_FCFS,
       P_PER_BANK_REFRESH, P_T_REFI, P_RD_LAT, P_WR_LAT, P_SPLIT_BUS, P_WINDOWS, P_IN_ORDER, P_PER_CYCLE };

typedef struct {            /* BankQueue: one queue (reads or writes), indexed by bank */
    i64 size, n, is_write;
    i64 *lst, *len;         /* lst[b * size + k]: k-th queued burst of bank b, in push order */
    i64 *act;               /* lower bound on the bank's candidate issue cycle (DIRTY: recompute) */
    char *on;               /* bank has queued work (key of Python's `active` dict) */
    i64 *cand_c, *cand_t;   /* cached candidate (command, burst), cand_c < 0: none */
} Queue;

typedef struct {
    Queue q[2];             /* 0 reads, 1 writes */
    i64 *open_row, *opener, *e_lb, *ref_due, *ref_bank, *blk;   /* opener: burst whose ACT opened the row */
    i64 *win_buf, *win_head, *win_len;   /* per (window, rank): ring of the last `count` issue cycles */
    const i64 *na_off;      /* per bank: state offsets of its bank, bank-group and rank tables */
    i64 ch_off, bus_off, ref_next, seq, write_mode, any_blk;
    i64 wake_at, running, pend_head, pend_tail;
    i64 *counts;            /* NCMD command counts, then hits, misses, conflicts */
} Chan;

typedef struct { i64 t, seq, ch; } Event;

typedef struct {
    const i64 *p, *upd_ptr, *upd, *bus_of, *win;
    i64 *st;                /* next-allowed times of every table, then bus-free times */
    i64 nbanks, bpr, ranks;
    Chan *ch;
    const i64 *b_ch, *b_bank, *b_row, *b_write;
    i64 *b_seq, *b_cause, *b_next, *b_arrive;
    i64 *lat, nlat, nread, nwrite, last_cycle;
    Event *heap;
    i64 nheap, cap_heap, eseq;
    i64 fe_head, fe_end, fe_cycle, fe_used, fe_tick;   /* in-order front end: bursts fe_head..fe_end-1 wait */
} Sim;

static i64 max64(i64 a, i64 b) { return a > b ? a : b; }

/* ---- controller: timing -------------------------------------------------------------------- */

static i64 earliest(Sim *s, Chan *c, i64 cmd, i64 b) {
    const i64 *o = c->na_off + 3 * b, *st = s->st;
    i64 e = max64(max64(st[o[0] + cmd], st[o[1] + cmd]), max64(st[o[2] + cmd], st[c->ch_off + cmd]));
    e = max64(e, st[c->bus_off + s->bus_of[cmd]]);
    i64 rank = b / s->bpr, base = 0;
    for (i64 w = 0; w < s->p[P_WINDOWS]; w++) {
        i64 count = s->win[3 * w + 1], k = w * s->ranks + rank;
        if (s->win[3 * w] == cmd && c->win_len[k] == count) {
            i64 h0 = c->win_buf[base + rank * count + c->win_head[k]] + s->win[3 * w + 2];
            if (h0 > e) e = h0;
        }
        base += s->ranks * count;
    }
    return e;
}

static void touch(Queue *q, i64 b) {
    q->cand_c[b] = -1;
    if (q->on[b]) q->act[b] = DIRTY;
}

static void issue(Sim *s, i64 chi, i64 cmd, i64 b, i64 now, i64 row) {
    Chan *c = &s->ch[chi];
    i64 k = (chi * s->nbanks + b) * NCMD + cmd;
    for (i64 j = s->upd_ptr[k]; j < s->upd_ptr[k + 1]; j++) {
        i64 idx = s->upd[2 * j], v = now + s->upd[2 * j + 1];
        if (s->st[idx] < v) s->st[idx] = v;
    }
    i64 rank = b / s->bpr, base = 0;
    for (i64 w = 0; w < s->p[P_WINDOWS]; w++) {     /* deque(maxlen=count).append(now) */
        i64 count = s->win[3 * w + 1], k = w * s->ranks + rank;
        i64 *buf = c->win_buf + base + rank * count;
        base += s->ranks * count;
        if (s->win[3 * w] != cmd) continue;
        if (c->win_len[k] < count) buf[(c->win_head[k] + c->win_len[k]++) % count] = now;
        else buf[c->win_head[k]] = now, c->win_head[k] = (c->win_head[k] + 1) % count;
    }
    c->counts[cmd]++;
    if (cmd == ACT || cmd == PRE || cmd == RDA || cmd == WRA) {
        c->open_row[b] = cmd == ACT ? row : -1;
        touch(&c->q[0], b), touch(&c->q[1], b);
    }
}

/* ---- controller: queues -------------------------------------------------------------------- */

static void q_push(Sim *s, Queue *q, i64 t) {
    i64 b = s->b_bank[t];
    q->lst[b * q->size + q->len[b]++] = t;
    q->on[b] = 1;
    touch(q, b);
    q->n++;
}

static void q_remove(Sim *s, Queue *q, i64 t) {
    i64 b = s->b_bank[t], *l = q->lst + b * q->size, k = 0;
    while (l[k] != t) k++;
    memmove(l + k, l + k + 1, (size_t)(q->len[b] - k - 1) * sizeof(i64));
    if (--q->len[b] == 0) q->on[b] = 0;
    touch(q, b);
    q->n--;
}

static i64 q_oldest(Sim *s, Queue *q) {
    i64 best = -1;
    for (i64 b = 0; b < s->nbanks; b++)
        if (q->on[b]) {
            i64 t = q->lst[b * q->size];
            if (best < 0 || s->b_seq[t] < s->b_seq[best]) best = t;
        }
    return best;
}

static i64 col_cmd(Sim *s, Queue *q, i64 t) {
    if (s->p[P_CLOSED_PAGE]) {
        i64 b = s->b_bank[t], *l = q->lst + b * q->size, other = 0;
        for (i64 k = 0; k < q->len[b]; k++)
            if (l[k] != t && s->b_row[l[k]] == s->b_row[t]) { other = 1; break; }
        if (!other) return q->is_write ? WRA : RDA;
    }
    return q->is_write ? WR : RD;
}

static void candidate(Sim *s, Chan *c, Queue *q, i64 b, i64 *cmd, i64 *t) {
    i64 *l = q->lst + b * q->size, open_row = c->open_row[b], op = c->opener[b];
    if (open_row >= 0) {
        for (i64 k = 0; k < q->len[b]; k++)
            if (s->b_row[l[k]] == open_row) { *cmd = q->is_write ? WR : RD; *t = l[k]; return; }
        if (op >= 0) { *cmd = s->b_write[op] ? WR : RD; *t = op; return; }   /* the other queue's opener */
        *cmd = PRE;
    } else *cmd = ACT;
    *t = l[0];
}

static int blocked(Sim *s, Chan *c, i64 b) {
    if (!c->any_blk) return 0;
    i64 x = c->blk[b / s->bpr];
    return x == -1 || x == b;
}

/* ---- controller: scheduling ---------------------------------------------------------------- */

typedef struct { i64 cmd, t, v; } Pick;      /* cmd < 0: nothing ready, v = earliest cycle */

static Pick pick_frfcfs(Sim *s, Chan *c, Queue *q, Queue *o, i64 now) {
    i64 best_hit = -1, best_row = -1, best_row_c = -1, hit_seq = INF, row_seq = INF, next_t = INF, ready = 0;
    for (i64 b = 0; b < s->nbanks; b++) {
        if (!q->on[b]) continue;
        i64 e = q->act[b];
        if (e > now) {
            if (e < next_t && !blocked(s, c, b)) next_t = e;
            continue;
        }
        if (q->cand_c[b] < 0) candidate(s, c, q, b, &q->cand_c[b], &q->cand_t[b]);
        i64 cmd = q->cand_c[b], t = q->cand_t[b], *lbb = c->e_lb + b * NCMD;
        if (blocked(s, c, b)) { q->act[b] = lbb[cmd]; continue; }   /* only refresh issues there */
        e = lbb[cmd];
        if (e <= now) {
            e = lbb[cmd] = earliest(s, c, cmd, b);
            if (o->cand_c[b] == cmd) o->act[b] = e;
        }
        q->act[b] = e;
        if (e <= now) {
            ready++;
            if (cmd == RD || cmd == WR) {
                if (s->b_seq[t] < hit_seq) { best_hit = t; hit_seq = s->b_seq[t]; }
            } else if (s->b_seq[t] < row_seq) {
                best_row = t; best_row_c = cmd; row_seq = s->b_seq[t];
            }
        } else if (e < next_t) next_t = e;
    }
    if (ready > 1) next_t = now;                  /* another candidate was ready too */
    if (best_hit >= 0) return (Pick){col_cmd(s, &c->q[s->b_write[best_hit]], best_hit), best_hit, next_t};
    if (best_row >= 0) return (Pick){best_row_c, best_row, next_t};
    return (Pick){-1, -1, next_t};
}

static Pick pick_fcfs(Sim *s, Chan *c, Queue *q, i64 now) {
    i64 t = q_oldest(s, q), b = s->b_bank[t], orow = c->open_row[b];
    i64 cmd = orow == s->b_row[t] ? (q->is_write ? WR : RD) : (orow < 0 ? ACT : PRE);
    if (cmd == PRE && c->opener[b] >= 0) { t = c->opener[b]; cmd = s->b_write[t] ? WR : RD; }
    if (blocked(s, c, b)) return (Pick){-1, -1, INF};
    i64 e = earliest(s, c, cmd, b);
    if (e > now) return (Pick){-1, -1, e};
    return (Pick){cmd == RD || cmd == WR ? col_cmd(s, &c->q[s->b_write[t]], t) : cmd, t, now};
}

/* ---- controller: refresh ------------------------------------------------------------------- */

static void refresh_target(Sim *s, Chan *c, i64 r, i64 *cmd, i64 *b) {
    i64 base = r * s->bpr;
    if (s->p[P_PER_BANK_REFRESH]) {
        *b = base + c->ref_bank[r];
        *cmd = c->open_row[*b] >= 0 ? PRE : REFSB;
        return;
    }
    for (i64 k = base; k < base + s->bpr; k++)
        if (c->open_row[k] >= 0) { *cmd = PRE; *b = k; return; }
    *cmd = REF, *b = base;
}

static void do_refresh(Sim *s, i64 chi, i64 cmd, i64 r, i64 b, i64 now) {
    Chan *c = &s->ch[chi];
    issue(s, chi, cmd, b, now, -1);
    if (cmd == REF || cmd == REFSB) {
        c->ref_due[r] += s->p[P_T_REFI];
        c->ref_next = INF;
        for (i64 k = 0; k < s->ranks; k++)
            if (c->ref_due[k] < c->ref_next) c->ref_next = c->ref_due[k];
        if (cmd == REFSB) c->ref_bank[r] = (c->ref_bank[r] + 1) % s->bpr;
    }
}

static void catch_up_refresh(Sim *s, i64 chi, i64 now) {
    Chan *c = &s->ch[chi];
    for (;;) {
        i64 r = 0, cmd, b;
        for (i64 k = 1; k < s->ranks; k++)
            if (c->ref_due[k] < c->ref_due[r]) r = k;
        i64 due = c->ref_due[r];
        if (due >= now) return;
        refresh_target(s, c, r, &cmd, &b);
        i64 t = max64(due, earliest(s, c, cmd, b));
        if (t >= now) return;
        do_refresh(s, chi, cmd, r, b, t);
    }
}

/* some rank's refresh is due: issue its next command now (-1) or return when one could issue */
static i64 refresh_due(Sim *s, i64 chi, i64 now) {
    Chan *c = &s->ch[chi];
    i64 next_t = INF, busy = c->q[0].n || c->q[1].n;
    c->any_blk = 0;
    for (i64 r = 0; r < s->ranks; r++) {
        c->blk[r] = NO_BLOCK;
        if (c->ref_due[r] <= now) {
            i64 cmd, b;
            refresh_target(s, c, r, &cmd, &b);
            i64 e = earliest(s, c, cmd, b);
            if (e <= now) { do_refresh(s, chi, cmd, r, b, now); c->any_blk = 0; return -1; }
            if (e < next_t) next_t = e;
            c->any_blk = 1;
            c->blk[r] = s->p[P_PER_BANK_REFRESH] ? b : -1;
        } else if (busy && c->ref_due[r] < next_t) next_t = c->ref_due[r];
    }
    return next_t;
}

/* issue one command at `now` (1, *nxt = lower bound on the next issue) or none (0, *nxt = earliest) */
static int try_issue(Sim *s, i64 chi, i64 now, i64 *nxt) {
    Chan *c = &s->ch[chi];
    Queue *rq = &c->q[0], *wq = &c->q[1];
    i64 next_t;
    if (c->ref_next > now) {
        c->any_blk = 0;
        next_t = rq->n || wq->n ? c->ref_next : INF;
    } else {
        next_t = refresh_due(s, chi, now);
        if (next_t < 0) { *nxt = now; return 1; }
    }
    if (c->write_mode) {
        if (!wq->n || (rq->n && wq->n <= s->p[P_LO])) c->write_mode = 0;
    } else if (wq->n && (wq->n >= s->p[P_HI] || !rq->n)) c->write_mode = 1;
    Queue *q = c->write_mode ? wq : rq, *o = c->write_mode ? rq : wq;
    if (!q->n) { *nxt = next_t; return 0; }
    Pick g = s->p[P_FCFS] ? pick_fcfs(s, c, q, now) : pick_frfcfs(s, c, q, o, now);
    if (g.cmd < 0) { *nxt = g.v < next_t ? g.v : next_t; return 0; }
    i64 t = g.t, b = s->b_bank[t], hint = g.v;
    issue(s, chi, g.cmd, b, now, s->b_row[t]);
    if (g.cmd != ACT && g.cmd != PRE) {
        q_remove(s, &c->q[s->b_write[t]], t);      /* the opener's column command may be in q's place */
        if (c->opener[b] == t) { c->opener[b] = -1; touch(&c->q[!s->b_write[t]], b); }
        c->counts[NCMD + (s->b_cause[t] < 2 ? s->b_cause[t] : 2)]++;
        i64 done = now + (s->b_write[t] ? s->p[P_WR_LAT] : s->p[P_RD_LAT]);   /* DramLevel._txn_done */
        if (s->b_write[t]) s->nwrite++;
        else { s->nread++; s->lat[s->nlat++] = done - s->b_arrive[t]; }
        if (done > s->last_cycle) s->last_cycle = done;
        *nxt = now + 1;
        return 1;
    }
    if (g.cmd == PRE || s->b_cause[t] == 0) s->b_cause[t] = g.cmd == PRE ? 2 : 1;
    c->opener[b] = g.cmd == ACT ? t : -1;
    candidate(s, c, q, b, &q->cand_c[b], &q->cand_t[b]);
    if (!blocked(s, c, b)) {
        i64 c2 = q->cand_c[b];
        i64 e = c->e_lb[b * NCMD + c2] = q->act[b] = earliest(s, c, c2, b);
        if (e < hint) hint = e;
    }
    *nxt = hint < next_t ? hint : next_t;
    return 1;
}

/* first cycle any command bus of the channel is free */
static i64 bus_free(Sim *s, Chan *c) {
    const i64 *f = s->st + c->bus_off;
    return s->p[P_SPLIT_BUS] && f[1] < f[0] ? f[1] : f[0];
}

static i64 step(Sim *s, i64 chi, i64 now) {
    Chan *c = &s->ch[chi];
    for (;;) {
        i64 nxt;
        if (try_issue(s, chi, now, &nxt)) {
            if (bus_free(s, c) > now) return max64(nxt, bus_free(s, c));   /* every bus taken */
            continue;
        }
        if (nxt < INF && (c->q[0].n || c->q[1].n)) return nxt > now ? nxt : now + 1;
        return NONE;
    }
}

/* ---- engine: a heap of (cycle, sequence) wake-ups; arrivals are a pre-sorted stream ---------- */

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
    if (!c->q[0].n && !c->q[1].n) catch_up_refresh(s, chi, now);
    s->b_seq[t] = ++c->seq;
    q_push(s, &c->q[s->b_write[t] ? 1 : 0], t);
    return wake(s, chi, max64(now, bus_free(s, c)));
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
    i64 lim = s->p[P_PER_CYCLE];
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

static int on_wake(Sim *s, i64 chi, i64 cycle, i64 next_arrival) {
    Chan *c = &s->ch[chi];
    if (c->wake_at != cycle) return 0;               /* superseded by an earlier wake */
    c->running = 1;
    for (;;) {
        c->wake_at = step(s, chi, cycle);
        if (c->pend_head >= 0) {
            Queue *q = &c->q[s->b_write[c->pend_head] ? 1 : 0];
            if (q->n < q->size && admit(s, chi, cycle)) return -1;
        } else if (s->fe_head < s->fe_end && s->b_ch[s->fe_head] == chi && admit_in_order(s, cycle)) {
            return -1;
        }
        i64 nxt = c->wake_at;
        if (nxt == NONE) break;
        i64 other = s->nheap ? s->heap[0].t : INF;
        if (next_arrival < other) other = next_arrival;
        if (other <= nxt) {                          /* another event comes first: yield to it */
            if (heap_push(s, nxt, chi)) return -1;
            break;
        }
        cycle = nxt;
    }
    c->running = 0;
    return 0;
}

static int submit(Sim *s, i64 first, i64 last, i64 now, char *touched) {
    if (s->p[P_IN_ORDER]) { s->fe_end = last; return admit_in_order(s, now); }  /* admission sets b_arrive */
    for (i64 t = first; t < last; t++) {
        Chan *c = &s->ch[s->b_ch[t]];
        s->b_arrive[t] = now;
        s->b_next[t] = -1;
        if (c->pend_tail >= 0) s->b_next[c->pend_tail] = t;
        else c->pend_head = t;
        c->pend_tail = t;
    }
    if (last - first == 1) return admit(s, s->b_ch[first], now);
    for (i64 t = first; t < last; t++) touched[s->b_ch[t]] = 1;
    for (i64 ch = 0; ch < s->p[P_CHANNELS]; ch++)
        if (touched[ch]) {
            touched[ch] = 0;
            if (admit(s, ch, now)) return -1;
        }
    return 0;
}

/* ---- setup and the replay loop ------------------------------------------------------------- */

static void *take(char **pool, i64 n) {
    void *p = *pool;
    *pool += (n * 8 + 7) / 8 * 8;
    return p;
}

/* Replay requests (sorted by arrival cycle; request j owns bursts req_burst[j] .. req_burst[j+1]-1).
 * Outputs: read latencies in completion order, per channel NCMD command counts + hits, misses,
 * conflicts, each rank's next refresh due time (into ref_due), and totals (reads, writes, last data
 * cycle, latencies, last event cycle). Returns 0, or -1 when memory runs out. */
int archsim_replay(const i64 *par, i64 *st, const i64 *upd_ptr, const i64 *upd, const i64 *na_off,
                   const i64 *ch_bus_off, const i64 *bus_of, const i64 *win, i64 *ref_due,
                   i64 nreq, const i64 *req_cycle, const i64 *req_burst,
                   const i64 *b_ch, const i64 *b_bank, const i64 *b_row, const i64 *b_write,
                   i64 *out_lat, i64 *out_counts, i64 *out_tot) {
    Sim S = {0}, *s = &S;
    s->p = par; s->st = st; s->upd_ptr = upd_ptr; s->upd = upd; s->bus_of = bus_of; s->win = win;
    i64 nch = par[P_CHANNELS], nb = s->nbanks = par[P_BANKS], ranks = s->ranks = par[P_RANKS];
    s->bpr = nb / ranks;
    i64 nburst = req_burst[nreq], nw = par[P_WINDOWS], wslots = 0;
    for (i64 w = 0; w < nw; w++) wslots += ranks * win[3 * w + 1];
    s->b_ch = b_ch; s->b_bank = b_bank; s->b_row = b_row; s->b_write = b_write;
    s->lat = out_lat;
    i64 qcap = (par[P_READ_QUEUE] > 0 ? par[P_READ_QUEUE] : 1) + (par[P_WRITE_QUEUE] > 0 ? par[P_WRITE_QUEUE] : 1);
    i64 per_ch = nb * (qcap + 12 + NCMD) + 3 * ranks + 2 * nw * ranks + wslots + NCMD + 3;
    i64 words = 4 * nburst + nch * per_ch + nch + 64;
    char *pool0 = calloc((size_t)words, 8), *pool = pool0;
    s->ch = calloc((size_t)nch, sizeof(Chan));
    char *touched = calloc((size_t)nch, 1);
    if (!pool0 || !s->ch || !touched) { free(pool0); free(s->ch); free(touched); return -1; }
    s->b_seq = take(&pool, nburst); s->b_cause = take(&pool, nburst);
    s->b_next = take(&pool, nburst); s->b_arrive = take(&pool, nburst);
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
        c->ch_off = ch_bus_off[2 * k]; c->bus_off = ch_bus_off[2 * k + 1];
        c->ref_next = INF;
        for (i64 b = 0; b < nb; b++) c->open_row[b] = c->opener[b] = -1;
        for (i64 r = 0; r < ranks; r++) {
            c->ref_due[r] = ref_due[k * ranks + r];
            if (c->ref_due[r] < c->ref_next) c->ref_next = c->ref_due[r];
        }
        c->wake_at = NONE; c->pend_head = c->pend_tail = -1;
    }
    s->fe_tick = -1;
    int err = 0;
    i64 j = 0, last_event = 0;
    for (; j < nreq && req_cycle[j] <= 0 && !err; j++)       /* submitted before the engine runs */
        err = submit(s, req_burst[j], req_burst[j + 1], 0, touched);
    i64 arr_seq = s->eseq + 1;                                  /* arrivals are scheduled next, in order */
    s->eseq += nreq - j;
    while (!err && (s->nheap || j < nreq)) {
        int arrival = j < nreq && (!s->nheap || req_cycle[j] < s->heap[0].t
                                   || (req_cycle[j] == s->heap[0].t && arr_seq < s->heap[0].seq));
        if (arrival) {
            last_event = req_cycle[j];
            err = submit(s, req_burst[j], req_burst[j + 1], req_cycle[j], touched);
            j++, arr_seq++;
        } else {
            Event e = heap_pop(s);
            last_event = e.t;
            err = e.ch < 0 ? admit_in_order(s, e.t) : on_wake(s, e.ch, e.t, j < nreq ? req_cycle[j] : INF);
        }
    }
    for (i64 k = 0; k < nch; k++) {     /* counts, and each rank's next refresh due (stats count the rest) */
        memcpy(out_counts + k * (NCMD + 3), s->ch[k].counts, (NCMD + 3) * sizeof(i64));
        memcpy(ref_due + k * ranks, s->ch[k].ref_due, (size_t)ranks * sizeof(i64));
    }
    out_tot[0] = s->nread; out_tot[1] = s->nwrite; out_tot[2] = s->last_cycle;
    out_tot[3] = s->nlat; out_tot[4] = last_event;
    free(s->heap); free(s->ch); free(touched); free(pool0);
    return err ? -1 : 0;
}
