// fusemax_mini: an R x C 2D PE array and a C-wide 1D array running FuseMax's one-pass attention cascade
// (running max, correction factor, deferred divide) on one head, in fixed point, under the epoch schedule
// of archsim's Level 1 model (archsim/units/attention/epochs.py; docs/rtl.md, "fusemax_mini").
//
// Host: load Q[p][e] (ld_sel 0), K[m][e] (1), V[m][f] (2) at row*MAXE + e, one element a clock (signed
// DW-bit; Q and K carry 4 fraction bits, V is an integer); start with dim_m = P queries, dim_n = M keys,
// dim_k = E = F. The controller first plans the epoch schedule (slots [A|D] [R] [B2|B1] [C2|C1], the
// lags, every slot's start from the tasks' readiness: the M0-row drains of LM, SLD and SLNV are latencies
// of R cycles), then the executor runs it: `cycles` counts the executor's cycles, which equal the
// model's for the same shape with the operands resident. Then the outputs stream: for each query tile and
// f, out_valid[j] / out_data[j] (AV[p = tile*C + j][f], signed Q.16), out_last on the last beat; done.
// INTERLEAVE = 0 runs FuseMax's +Architecture ablation (no epochs: RM waits for LM's drain, RNV runs
// after SPNV once SLNV has drained).
//
// Arithmetic: scores Q.8; exp(x), x <= 0, on a PE is 1 subtract + 6 MACs: y = x log2(e) (Q.16), k = floor(y),
// 2^frac(y) by a degree-5 polynomial in Horner form (5 MACs, Q.16 coefficients), then >> -k. SLN, SLD,
// PRM, RD Q.16; SLNV, SPNV, RNV Q.16 x V; AV = (RNV << 16) / RD.
// Lint waivers (this file only): the datapath is written behaviourally, per PE in loops with integer
// indices and blocking temporaries for the per-cycle column reductions, mixing the 16-bit shape registers
// into 32/64-bit arithmetic; the widths are chosen so no value overflows (see "Arithmetic").
/* verilator lint_off BLKSEQ */
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module fusemax_mini #(
    parameter R = 4,            // 2D rows: M0 keys a tile
    parameter C = 4,            // 2D columns and 1D PEs: P0 queries a tile
    parameter MAXP = 16,
    parameter MAXM = 16,
    parameter MAXE = 16,
    parameter DW = 8,
    parameter AW = 32,
    parameter CW = 32,
    parameter INTERLEAVE = 1
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    input  wire              ld_we,
    input  wire [1:0]        ld_sel,
    /* verilator lint_off UNUSEDSIGNAL */   // addresses above the buffers' size are not decoded
    input  wire [15:0]       ld_addr,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [DW-1:0]     ld_data,
    input  wire [15:0]       dim_m,
    input  wire [15:0]       dim_n,
    input  wire [15:0]       dim_k,
    output reg               busy,
    output reg               done,
    output reg  [CW-1:0]     cycles,
    output reg  [C-1:0]      out_valid,
    output reg  [C*AW-1:0]   out_data,
    output reg  [C-1:0]      out_last,
    output reg               dbg_run,
    output reg  [CW-1:0]     dbg_now,
    output reg  [2:0]        dbg_slot,
    output reg  [15:0]       dbg_epoch
);
    localparam PTMAX = (MAXP + C - 1) / C;
    localparam MTMAX = (MAXM + R - 1) / R;
    localparam MAXT = PTMAX * MTMAX;
    localparam MAXS = 4 * (MAXT + 8);
    localparam signed [63:0] NEG = -64'sd268435456;            // -2^28: a masked score
    localparam signed [63:0] LOG2E = 64'sd23637;               // log2(e) in Q.14
    localparam signed [63:0] P5 = 64'sd124, P4 = 64'sd586, P3 = 64'sd3661, P2 = 64'sd15738,
                             P1 = 64'sd45427, P0 = 64'sd65536;  // 2^f, f in [0, 1), Q.16
    localparam [2:0] IDLE = 3'd0, PLAN = 3'd1, EXEC = 3'd2, OUT = 3'd3, FIN = 3'd4;

    // operands
    reg signed [DW-1:0] qbuf [0:MAXP*MAXE-1];
    reg signed [DW-1:0] kbuf [0:MAXM*MAXE-1];
    reg signed [DW-1:0] vbuf [0:MAXM*MAXE-1];

    // shape and schedule constants, latched at start
    reg [15:0] P, M, E, PT, NT, LR, LD, II;
    reg        pm;                          // the last key tile is partly padding

    // planner state and its record: start, duration, epoch and slot of every slot that does work
    reg [CW-1:0] eA [0:MAXT-1];
    reg [CW-1:0] eB [0:MAXT-1];
    reg [CW-1:0] eC [0:MAXT-1];
    reg [CW-1:0] eD [0:MAXT-1];
    reg [CW-1:0] pstart [0:MAXS-1];
    reg [15:0]   pdur [0:MAXS-1];
    reg [15:0]   pk [0:MAXS-1];
    reg [2:0]    psl [0:MAXS-1];
    reg [15:0]   np, k, idx, c, tp, f;
    reg [2:0]    sl, state;
    reg [CW-1:0] tnow;

    // datapath storage: per tile in flight, per query row, per PE
    reg signed [AW-1:0] qk   [0:MAXT*R*C-1];
    reg signed [AW-1:0] lm   [0:MAXT*C-1];
    reg signed [AW-1:0] rmo  [0:MAXT*C-1];
    reg signed [AW-1:0] rmn  [0:MAXT*C-1];
    reg signed [AW-1:0] sld  [0:MAXT*C-1];
    reg signed [AW-1:0] prm  [0:MAXT*C-1];
    reg signed [AW-1:0] spd  [0:MAXT*C-1];
    reg signed [AW-1:0] slnv [0:MAXT*MAXE*C-1];
    reg signed [AW-1:0] spnv [0:MAXT*MAXE*C-1];
    reg signed [AW-1:0] rm   [0:PTMAX*C-1];
    reg signed [AW-1:0] rd   [0:PTMAX*C-1];
    reg signed [AW-1:0] rnv  [0:PTMAX*MAXE*C-1];
    reg signed [AW-1:0] av   [0:PTMAX*MAXE*C-1];
    reg signed [63:0]   ex   [0:R*C-1];     // 2D PE exp registers: x, then the Horner accumulator
    reg [5:0]           sh   [0:R*C-1];     // -floor(y), saturated at 63
    reg [15:0]          fr   [0:R*C-1];     // frac(y), Q.16
    reg signed [63:0]   ex1  [0:C-1];       // the same on the 1D PEs (PRM)
    reg [5:0]           sh1  [0:C-1];
    reg [15:0]          fr1  [0:C-1];
    reg signed [AW-1:0] sln  [0:R*C-1];

    // ---- planner: the slot to plan now (combinational) ----------------------------------------------
    reg signed [31:0] a_t, d_t, r_t;
    reg               hasA, hasD, hasR;
    reg [CW-1:0]      ready, wa, wd, dur;
    integer           pd, pr;

    function signed [63:0] sx(input signed [AW-1:0] v);   // sign-extend a stored value
        sx = {{(64-AW){v[AW-1]}}, v};
    endfunction

    function [CW-1:0] mx(input [CW-1:0] x, input [CW-1:0] y);
        mx = x > y ? x : y;
    endfunction

    always @* begin
        a_t = {16'd0, k};
        d_t = $signed({16'd0, k}) - $signed({16'd0, LD});
        r_t = $signed({16'd0, k}) - $signed({16'd0, LR});
        hasA = a_t < $signed({16'd0, NT});
        hasD = d_t >= 0 && d_t < $signed({16'd0, NT});
        hasR = r_t >= 0 && r_t < $signed({16'd0, NT});
        pd = d_t - $signed({16'd0, PT});
        pr = r_t - $signed({16'd0, PT});
        ready = tnow;
        wa = 0;
        wd = 0;
        dur = 0;
        if (sl == 3'd1) begin
            if (hasA)
                wa = {16'd0, E} + 1 + ((pm && a_t >= $signed({16'd0, NT - PT})) ? 1 : 0);
            if (hasD) begin
                if (INTERLEAVE != 0)
                    ready = mx(ready, eC[d_t] + R);
                ready = mx(mx(ready, eB[d_t] + R), eC[d_t]);
                if (pd >= 0)
                    ready = mx(ready, eD[pd]);
                wd = (INTERLEAVE != 0 ? {16'd0, E} + 1 : 1) + (d_t >= $signed({16'd0, NT - PT}) ? {16'd0, E} : 0);
            end
            dur = mx(wa, wd);
        end else if (sl == 3'd2) begin
            ready = mx(ready, eA[r_t] + R);
            dur = 1;
        end else begin
            if (pr >= 0)
                ready = mx(ready, eD[pr]);
            if (sl == 3'd3)
                dur = 8;
            else
                dur = INTERLEAVE != 0 ? {16'd0, E} : mx({16'd0, E}, R) + {16'd0, E};
        end
    end

    // ---- executor: the tiles of the slot being run ---------------------------------------------------
    wire [15:0] ek = pk[idx];
    wire [2:0]  es = psl[idx];
    wire [15:0] xa = ek;
    wire [15:0] xd = ek - LD;
    wire [15:0] xr = ek - LR;
    wire        ex_run = state == EXEC && idx < np && tnow >= pstart[idx];

    /* verilator lint_off UNUSEDSIGNAL */   // loop indices and 64-bit temporaries: only low bits are kept
    integer i, j, g, t, row, m0, p0, base;
    reg signed [63:0] acc, y, prod;
    /* verilator lint_on UNUSEDSIGNAL */

    always @(posedge clk) begin
        if (rst) begin
            state <= IDLE;
            busy <= 1'b0;
            done <= 1'b0;
            cycles <= 0;
            out_valid <= 0;
            out_last <= 0;
            out_data <= 0;
            dbg_run <= 1'b0;
            dbg_now <= 0;
            dbg_slot <= 3'd0;
            dbg_epoch <= 16'd0;
        end else begin
            if (ld_we) begin
                if (ld_sel == 2'd0) qbuf[ld_addr] <= ld_data;
                if (ld_sel == 2'd1) kbuf[ld_addr] <= ld_data;
                if (ld_sel == 2'd2) vbuf[ld_addr] <= ld_data;
            end
            out_valid <= 0;
            out_last <= 0;
            case (state)
            IDLE: if (start) begin
                P <= dim_m;
                M <= dim_n;
                E <= dim_k;
                PT <= (dim_m + C - 1) / C;
                NT <= ((dim_m + C - 1) / C) * ((dim_n + R - 1) / R);
                pm <= (dim_n % R) != 0;
                II <= 2 * dim_k + 10;
                k <= 0;
                sl <= 3'd0;                          // lags first
                tnow <= 0;
                np <= 0;
                busy <= 1'b1;
                done <= 1'b0;
                state <= PLAN;
                for (t = 0; t < MAXT; t = t + 1) begin
                    eA[t] <= 0; eB[t] <= 0; eC[t] <= 0; eD[t] <= 0;
                end
                for (t = 0; t < PTMAX * C; t = t + 1) begin
                    rm[t] <= NEG[AW-1:0];
                    rd[t] <= 0;
                end
                for (t = 0; t < PTMAX * MAXE * C; t = t + 1)
                    rnv[t] <= 0;
            end
            PLAN: if (sl == 3'd0) begin
                // lag_r = min(ceil(R / ii), P1), lag_d = lag_r + max(1, min(P1, 1 + ceil(R / ii))); P1 = PT here
                if (INTERLEAVE != 0) begin
                    LR <= ((R + II - 1) / II < PT) ? (R + II - 1) / II : PT;
                    LD <= (((R + II - 1) / II < PT) ? (R + II - 1) / II : PT)
                          + ((1 + (R + II - 1) / II < PT) ? 1 + (R + II - 1) / II : (PT > 1 ? PT : 1));
                end else begin
                    LR <= 0;
                    LD <= 1;
                end
                sl <= 3'd1;
            end else begin
                if (dur != 0) begin
                    pstart[np] <= ready;
                    pdur[np] <= dur[15:0];
                    pk[np] <= k;
                    psl[np] <= sl;
                    np <= np + 1;
                end
                tnow <= ready + dur;
                if (sl == 3'd1) begin
                    if (hasA) eA[a_t] <= ready + dur;
                    if (hasD) eD[d_t] <= ready + dur;
                end else if (sl == 3'd3) begin
                    eB[r_t] <= ready + dur;
                end else if (sl == 3'd4) begin
                    eC[r_t] <= ready + dur;
                end
                if (sl == 3'd1 && !hasR || sl == 3'd4) begin
                    if ({16'd0, k} + 1 >= {16'd0, NT} + {16'd0, LD}) begin
                        state <= EXEC;
                        idx <= 0;
                        c <= 0;
                        tnow <= 0;
                    end
                    k <= k + 1;
                    sl <= 3'd1;
                end else begin
                    sl <= sl + 1;
                end
            end
            EXEC: begin
                dbg_run <= 1'b1;
                dbg_now <= tnow;
                dbg_slot <= ex_run ? es : 3'd0;
                dbg_epoch <= ek;
                if (idx >= np) begin
                    cycles <= tnow;
                    dbg_run <= 1'b0;
                    state <= OUT;
                    tp <= 0;
                    f <= 0;
                end else begin
                    tnow <= tnow + 1;
                    if (ex_run) begin
                        if (c + 1 == pdur[idx]) begin
                            idx <= idx + 1;
                            c <= 0;
                        end else begin
                            c <= c + 1;
                        end
                        // ---- slot 1: A = QK (+ mask) + LM on 2D | D = RD, RNV (+ AV) on 1D ----
                        if (es == 3'd1 && xa < NT) begin
                            row = xa % PT; m0 = (xa / PT) * R; p0 = row * C;
                            for (i = 0; i < R; i = i + 1)
                                for (j = 0; j < C; j = j + 1) begin
                                    base = (xa * R + i) * C + j;
                                    if (c < E) begin
                                        if (c == 0) acc = 0; else acc = sx(qk[base]);
                                        if (m0 + i < M && p0 + j < P)
                                            acc = acc + qbuf[(p0 + j) * MAXE + c] * kbuf[(m0 + i) * MAXE + c];
                                        qk[base] <= acc[AW-1:0];
                                    end
                                end
                            if (c + 1 == E + 1 + ((pm && xa >= NT - PT) ? 1 : 0)) begin   // last A cycle: mask, LM
                                for (j = 0; j < C; j = j + 1) begin
                                    acc = NEG;
                                    for (i = 0; i < R; i = i + 1) begin
                                        base = (xa * R + i) * C + j;
                                        if (m0 + i >= M) qk[base] <= NEG[AW-1:0];
                                        else if (sx(qk[base]) > acc)
                                            acc = sx(qk[base]);
                                    end
                                    lm[xa * C + j] <= acc[AW-1:0];
                                end
                            end
                        end
                        if (es == 3'd1 && ek >= LD && xd < NT) begin
                            row = xd % PT;
                            for (j = 0; j < C; j = j + 1) begin
                                if (c == 0)
                                    rd[row * C + j] <= sld[xd * C + j] + spd[xd * C + j];
                                else if (INTERLEAVE != 0 && c <= E && xd < NT) begin
                                    g = (row * MAXE + c - 1) * C + j;
                                    rnv[g] <= slnv[(xd * MAXE + c - 1) * C + j] + spnv[(xd * MAXE + c - 1) * C + j];
                                end else if (xd >= NT - PT && c - 1 - (INTERLEAVE != 0 ? E : 0) < E) begin
                                    g = (row * MAXE + c - 1 - (INTERLEAVE != 0 ? E : 0)) * C + j;
                                    acc = sx(rnv[g]) <<< 16;
                                    acc = acc / sx(rd[row * C + j]);
                                    av[g] <= acc[AW-1:0];
                                end
                            end
                        end
                        // ---- slot 2: R = RM on 1D ----
                        if (es == 3'd2) begin
                            row = xr % PT;
                            for (j = 0; j < C; j = j + 1) begin
                                acc = sx(rm[row * C + j]);
                                y = sx(lm[xr * C + j]);
                                rmo[xr * C + j] <= rm[row * C + j];
                                if (y > acc) acc = y;
                                rmn[xr * C + j] <= acc[AW-1:0];
                                rm[row * C + j] <= acc[AW-1:0];
                            end
                        end
                        // ---- slot 3: B2 = SLN (subtract, 6 MACs) + SLD on 2D | B1 = PRM + SPD on 1D ----
                        if (es == 3'd3) begin
                            row = xr % PT;
                            for (g = 0; g < R * C + C; g = g + 1) begin
                                // g < R*C: PE (i, j) = (g / C, g % C); else 1D PE g - R*C
                                j = g < R * C ? g % C : g - R * C;
                                if (c == 0) begin        // the subtract
                                    if (g < R * C)
                                        ex[g] <= sx(qk[xr * R * C + g])
                                                 - sx(rmn[xr * C + j]);
                                    else
                                        ex1[j] <= sx(rmo[xr * C + j])
                                                  - sx(rmn[xr * C + j]);
                                end else if (c == 1) begin   // MAC 1: y = x log2 e, split
                                    y = ((g < R * C ? ex[g] : ex1[j]) * LOG2E) >>> 6;
                                    acc = -(y >>> 16);
                                    if (g < R * C) begin
                                        sh[g] <= acc > 63 ? 6'd63 : acc[5:0];
                                        fr[g] <= y[15:0];
                                        ex[g] <= P5;
                                    end else begin
                                        sh1[j] <= acc > 63 ? 6'd63 : acc[5:0];
                                        fr1[j] <= y[15:0];
                                        ex1[j] <= P5;
                                    end
                                end else if (c <= 6) begin   // MACs 2-6: Horner
                                    acc = c == 2 ? P4 : c == 3 ? P3 : c == 4 ? P2 : c == 5 ? P1 : P0;
                                    if (g < R * C)
                                        ex[g] <= ((ex[g] * $signed({48'd0, fr[g]})) >>> 16) + acc;
                                    else
                                        ex1[j] <= ((ex1[j] * $signed({48'd0, fr1[j]})) >>> 16) + acc;
                                end
                            end
                            if (c == 7) begin            // SLN = 2^f >> -k; SLD; PRM; SPD
                                for (j = 0; j < C; j = j + 1) begin
                                    acc = 0;
                                    for (i = 0; i < R; i = i + 1) begin
                                        y = sh[i * C + j] >= 32 ? 64'sd0 : ex[i * C + j] >>> sh[i * C + j];
                                        sln[i * C + j] <= y[AW-1:0];
                                        acc = acc + y;
                                    end
                                    sld[xr * C + j] <= acc[AW-1:0];
                                    y = sh1[j] >= 32 ? 64'sd0 : ex1[j] >>> sh1[j];
                                    prm[xr * C + j] <= y[AW-1:0];
                                    prod = (sx(rd[row * C + j]) * y) >>> 16;
                                    spd[xr * C + j] <= prod[AW-1:0];
                                end
                            end
                        end
                        // ---- slot 4: C2 = SLNV on 2D | C1 = SPNV (then, without interleaving, RNV) on 1D ----
                        if (es == 3'd4) begin
                            row = xr % PT; m0 = (xr / PT) * R;
                            for (j = 0; j < C; j = j + 1) begin
                                if (c < E) begin
                                    acc = 0;
                                    for (i = 0; i < R; i = i + 1)
                                        if (m0 + i < M)
                                            acc = acc + sx(sln[i * C + j])
                                                        * vbuf[(m0 + i) * MAXE + c];
                                    slnv[(xr * MAXE + c) * C + j] <= acc[AW-1:0];
                                    g = (row * MAXE + c) * C + j;
                                    prod = (sx(rnv[g])
                                            * sx(prm[xr * C + j])) >>> 16;
                                    spnv[(xr * MAXE + c) * C + j] <= prod[AW-1:0];
                                end
                                if (INTERLEAVE == 0 && c >= (E > R ? E : R)) begin
                                    t = c - (E > R ? E : R);
                                    rnv[(row * MAXE + t) * C + j] <= slnv[(xr * MAXE + t) * C + j]
                                                                      + spnv[(xr * MAXE + t) * C + j];
                                end
                            end
                        end
                    end
                end
            end
            OUT: begin
                for (j = 0; j < C; j = j + 1) begin
                    out_valid[j] <= tp * C + j < P;
                    out_data[j * AW +: AW] <= av[(tp * MAXE + f) * C + j];
                end
                out_last <= {C{tp + 1 == PT && f + 1 == E}};
                if (f + 1 == E) begin
                    f <= 0;
                    tp <= tp + 1;
                    if (tp + 1 == PT) state <= FIN;
                end else begin
                    f <= f + 1;
                end
            end
            FIN: begin
                busy <= 1'b0;
                done <= 1'b1;
                state <= IDLE;
            end
            default: state <= IDLE;
            endcase
        end
    end
endmodule
