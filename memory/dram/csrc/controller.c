/* The per-channel DRAM controller, compiled: the twin of controller.py and scheduler.py (see core.h). */
#include "core.h"

static i64 max64(i64 a, i64 b) { return a > b ? a : b; }

/* ---- controller: timing -------------------------------------------------------------------- */

/* earliest legal cycle of cmd at bank b, against the command-bus slots at state offset bus_off */
static i64 earliest_on(Sim *s, Chan *c, i64 cmd, i64 b, i64 bus_off) {
    const i64 *o = c->na_off + 3 * b, *st = s->st;
    i64 e = max64(max64(st[o[0] + cmd], st[o[1] + cmd]), max64(st[o[2] + cmd], st[c->ch_off + cmd]));
    e = max64(e, st[bus_off + s->bus_of[cmd]]);
    i64 rank = b / s->bpr, base = 0;
    for (i64 w = 0; w < s->par[P_WINDOWS]; w++) {
        i64 count = s->win[3 * w + 1], k = w * s->ranks + rank;
        if (s->win[3 * w] == cmd && c->win_len[k] == count) {
            i64 h0 = c->win_buf[base + rank * count + c->win_head[k]] + s->win[3 * w + 2];
            if (h0 > e) e = h0;
        }
        base += s->ranks * count;
    }
    return e;
}

static i64 earliest(Sim *s, Chan *c, i64 cmd, i64 b) { return earliest_on(s, c, cmd, b, c->bus_off); }

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
    for (i64 w = 0; w < s->par[P_WINDOWS]; w++) {     /* deque(maxlen=count).append(now) */
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

void dram_q_push(Sim *s, Queue *q, i64 t) {
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
    if (s->par[P_CLOSED_PAGE]) {
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
    if (s->par[P_PER_BANK_REFRESH]) {
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
        c->ref_due[r] += s->par[P_T_REFI];
        c->ref_next = INF;
        for (i64 k = 0; k < s->ranks; k++)
            if (c->ref_due[k] < c->ref_next) c->ref_next = c->ref_due[k];
        if (cmd == REFSB) c->ref_bank[r] = (c->ref_bank[r] + 1) % s->bpr;
    }
}

void dram_catch_up_refresh(Sim *s, i64 chi, i64 now) {
    Chan *c = &s->ch[chi];
    for (;;) {
        i64 r = 0, cmd, b;
        for (i64 k = 1; k < s->ranks; k++)
            if (c->ref_due[k] < c->ref_due[r]) r = k;
        i64 due = c->ref_due[r];
        if (due >= now) return;
        refresh_target(s, c, r, &cmd, &b);
        i64 t = max64(due, earliest_on(s, c, cmd, b, c->own_bus_off));   /* own bus slots only */
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
            c->blk[r] = s->par[P_PER_BANK_REFRESH] ? b : -1;
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
        if (!wq->n || (rq->n && wq->n <= s->par[P_LO])) c->write_mode = 0;
    } else if (wq->n && (wq->n >= s->par[P_HI] || !rq->n)) c->write_mode = 1;
    Queue *q = c->write_mode ? wq : rq, *o = c->write_mode ? rq : wq;
    if (!q->n) { *nxt = next_t; return 0; }
    Pick g = s->par[P_FCFS] ? pick_fcfs(s, c, q, now) : pick_frfcfs(s, c, q, o, now);
    if (g.cmd < 0) { *nxt = g.v < next_t ? g.v : next_t; return 0; }
    i64 t = g.t, b = s->b_bank[t], hint = g.v;
    issue(s, chi, g.cmd, b, now, s->b_row[t]);
    if (g.cmd != ACT && g.cmd != PRE) {
        q_remove(s, &c->q[s->b_write[t]], t);      /* the opener's column command may be in q's place */
        if (c->opener[b] == t) { c->opener[b] = -1; touch(&c->q[!s->b_write[t]], b); }
        c->counts[NCMD + (s->b_cause[t] < 2 ? s->b_cause[t] : 2)]++;
        if (dram_burst_done(s, t, now + (s->b_write[t] ? s->par[P_WR_LAT] : s->par[P_RD_LAT]))) s->err = 1;
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
i64 dram_bus_free(Sim *s, Chan *c) {
    const i64 *f = s->st + c->bus_off;
    return s->par[P_SPLIT_BUS] && f[1] < f[0] ? f[1] : f[0];
}

i64 dram_step(Sim *s, i64 chi, i64 now) {
    Chan *c = &s->ch[chi];
    for (;;) {
        i64 nxt;
        if (try_issue(s, chi, now, &nxt)) {
            if (dram_bus_free(s, c) > now) return max64(nxt, dram_bus_free(s, c));   /* every bus taken */
            continue;
        }
        if (nxt < INF && (c->q[0].n || c->q[1].n)) return nxt > now ? nxt : now + 1;
        return NONE;
    }
}

