/* The compiled DRAM core: types shared by controller.c (the twin of controller.py + scheduler.py) and
 * level.c (the twin of level.py's engine plumbing, plus the whole-trace and incremental entry points).
 * Every decision mirrors the Python reference line for line, so statistics are bit-identical. No DRAM
 * timing is written here: the rule table arrives flattened by Controller._compile as (state index,
 * delay) pairs, geometry and parameters as int64 arrays (memory/dram/native.py documents each slot).
 * Time is in DRAM cycles. C99, libc only. */
#ifndef DRAM_CORE_H_INCLUDED
#define DRAM_CORE_H_INCLUDED
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
       P_PER_BANK_REFRESH, P_T_REFI, P_RD_LAT, P_WR_LAT, P_SPLIT_BUS, P_WINDOWS, P_IN_ORDER, P_PER_CYCLE,
       NPARAMS };

typedef struct {            /* BankQueue: one queue (reads or writes), indexed by bank */
    i64 size, n, is_write;
    i64 *lst, *len;         /* lst[b * size + k]: k-th queued burst of bank b, in push order */
    i64 *act;               /* lower bound on the bank's candidate issue cycle (DIRTY: recompute) */
    i64 *on;                /* bank has queued work (key of Python's `active` dict) */
    i64 *cand_c, *cand_t;   /* cached candidate (command, burst), cand_c < 0: none */
} Queue;

typedef struct {
    Queue q[2];             /* 0 reads, 1 writes */
    i64 *open_row, *opener, *e_lb, *ref_due, *ref_bank, *blk;   /* opener: burst whose ACT opened the row */
    i64 *win_buf, *win_head, *win_len;   /* per (window, rank): ring of the last `count` issue cycles */
    const i64 *na_off;      /* per bank: state offsets of its bank, bank-group and rank tables */
    i64 ch_off, bus_off, ref_next, seq, write_mode, any_blk;
    i64 own_bus_off;        /* the bus slots this channel took itself (== bus_off unless the bus is shared) */
    i64 wake_at, running, pend_head, pend_tail;
    i64 *counts;            /* NCMD command counts, then hits, misses, conflicts */
} Chan;

typedef struct { i64 t, seq, ch; } Event;
typedef struct { i64 t, seq; } Lim;   /* first event (cycle, engine sequence) that is not ours to run */

typedef struct {
    i64 par[NPARAMS];
    const i64 *upd_ptr, *upd, *bus_of, *win;
    i64 *st;                /* next-allowed times of every table, then bus-free times */
    i64 nbanks, bpr, ranks;
    Chan *ch;
    char *pool;             /* the channels' fixed-size tables */
    char *touched;
    /* bursts (growable; recycled through a free list when `recycle`) */
    i64 nb_cap, nb_used, free_b, recycle;
    i64 *b_ch, *b_bank, *b_row, *b_write, *b_seq, *b_cause, *b_next, *b_arrive, *b_req;
    /* requests of the incremental driver: bursts left, latest data cycle, has a callback */
    i64 nr_cap, nr_used, free_r;
    i64 *r_left, *r_done, *r_cb;
    i64 *done;              /* completions of the current call: (request, data cycle, engine sequence) */
    i64 ndone, cap_done;
    Lim lim;                /* the current call's limit (lowered as completions are scheduled) */
    i64 *lat, nlat, cap_lat, nread, nwrite, last_cycle;
    Event *heap;
    i64 nheap, cap_heap, eseq, steps, err;   /* err: memory ran out (checked by each entry point) */
    i64 fe_head, fe_end, fe_cycle, fe_used, fe_tick;   /* in-order front end: bursts fe_head..fe_end-1 wait */
} Sim;

/* controller.c */
i64 dram_step(Sim *s, i64 chi, i64 now);
void dram_catch_up_refresh(Sim *s, i64 chi, i64 now);
void dram_q_push(Sim *s, Queue *q, i64 t);
i64 dram_bus_free(Sim *s, Chan *c);
/* level.c: a column command issued for burst t, its data at cycle `done` */
int dram_burst_done(Sim *s, i64 t, i64 done);

#endif
