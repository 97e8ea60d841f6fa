// EN-T sparse-digit column GEMM core (HPCA'25 OPT3/OPT4C, our own RTL): one shared EN-T encoder and
// sparse scheduler drive C PEs. C[M,N] = A[M,K] @ B[K,N]: for each fold of C columns of B, each row m
// of A, each bit weight b (outermost) and each group of 4 consecutive k, the scheduler issues one
// non-zero digit of the group per cycle (one idle cycle if the group has none) to every PE, which
// adds digit * B[k][n] into its carry-save accumulator. Cycles per row:
//   sum over b, groups g of max(1, non-zero digits of weight b in g)   (docs/bitweight.md).
// A pass's (sum, carry) is resolved (one CPA), shifted by 2b and added to the row total in the cycle
// after the pass, in parallel with the next pass. Port as the systolic cores (docs/rtl.md): load A
// (ld_sel=0, m*MAXK+k) and B (ld_sel=1, k*MAXN+n), pulse start with dim_m/n/k; each row's C results
// leave on out_valid/out_data one cycle after its last step (folds in order, out_last on row M-1);
// done rises one cycle after the last row, and `cycles` equals its state index: steps + 2.
// dbg_acc shows each PE's carry-save pass value (sum + carry) for the per-cycle comparison.
module ent_column #(
    parameter integer C    = 4,
    parameter integer DW   = 8,
    parameter integer AW   = 32,
    parameter integer IW   = 16,
    parameter integer CW   = 32,
    parameter integer MAXM = 16,
    parameter integer MAXN = 16,
    parameter integer MAXK = 16
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            ld_we,
    input  wire            ld_sel,
    input  wire [IW-1:0]   ld_addr,
    input  wire [DW-1:0]   ld_data,
    input  wire            start,
    input  wire [IW-1:0]   dim_m,
    input  wire [IW-1:0]   dim_n,
    input  wire [IW-1:0]   dim_k,
    output reg             busy,
    output reg             done,
    output reg  [CW-1:0]   cycles,
    output reg  [C-1:0]    out_valid,
    output reg  [C-1:0]    out_last,
    output wire [C*AW-1:0] out_data,
    output wire [C*AW-1:0] dbg_acc      // each PE's pass value sum + carry (debug: the bench's trace)
);
    localparam integer ND = DW / 2;
    localparam [IW-1:0] ONE = 1;
    localparam [IW-1:0] FOUR = 4;
    localparam [IW-1:0] CWD = C[IW-1:0];

    // ---- sequencer state ------------------------------------------------------------------------
    reg [IW-1:0] m_dim, n_dim, k_dim;
    reg [IW-1:0] fc0;             // first column of the current fold
    reg [IW-1:0] m, g0;           // row of A, first k of the current group
    reg [1:0]    b;               // bit weight (radix-4 digit index) of the current pass
    reg [3:0]    served;          // digits of the group already issued
    reg          run, pass_start;
    // pending pass resolution (one cycle behind the pass)
    reg          pend, pend_row, pend_last, pend_final, fin;
    reg [1:0]    pend_b;

    // ---- operand buffers and the shared encoder ------------------------------------------------
    wire [4*DW-1:0] a_grp;
    wire [3:0]      a_en;
    wire [4*IW-1:0] a_row, a_col;
    genvar i, j;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_alane
            wire [IW-1:0] k = g0 + i[IW-1:0];
            assign a_en[i] = run && (k < k_dim);
            assign a_row[i*IW +: IW] = m;
            assign a_col[i*IW +: IW] = k;
        end
    endgenerate
    gemm_buf #(.DW(DW), .ROWS(MAXM), .COLS(MAXK), .LANES(4), .IW(IW)) abuf (
        .clk(clk), .we(ld_we && !ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(a_en), .rrow(a_row), .rcol(a_col), .rdata(a_grp));

    wire [11:0] dig_b;            // the 4 operands' digits of weight b
    wire [3:0]  nz;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_enc
            wire [3*ND-1:0] d;
            ent_encoder #(.DW(DW)) enc (.x(a_grp[i*DW +: DW]), .digits(d));
            assign dig_b[3*i +: 3] = d[3*b +: 3];
            assign nz[i] = (d[3*b +: 3] != 3'd0);
        end
    endgenerate

    // the sparse scheduler: lowest remaining non-zero digit of the group
    wire [3:0] rem = nz & ~served;
    wire [1:0] pick = rem[0] ? 2'd0 : rem[1] ? 2'd1 : rem[2] ? 2'd2 : 2'd3;
    wire [3:0] pick_1h = (rem == 4'd0) ? 4'd0 : (4'd1 << pick);
    wire       group_last = ((rem & ~pick_1h) == 4'd0);
    wire [2:0] digit = (rem == 4'd0) ? 3'd0 : dig_b[3*pick +: 3];
    wire       last_group = (g0 + FOUR >= k_dim);
    wire       pass_end = run && group_last && last_group;
    wire       row_end = pass_end && (b == 2'd3);
    wire       fold_end = row_end && (m + ONE == m_dim);
    wire       op_end = fold_end && (fc0 + CWD >= n_dim);

    // ---- B lanes and the PEs -------------------------------------------------------------------
    wire [C*DW-1:0] b_row;
    wire [C-1:0]    b_en;
    wire [C*IW-1:0] b_r, b_c;
    wire [AW-1:0]   shift = {{(AW-3){1'b0}}, pend_b, 1'b0};   // 2 * b of the pass being resolved
    reg  [C*AW-1:0] total, out_q;
    generate
        for (j = 0; j < C; j = j + 1) begin : g_pe
            wire [IW-1:0] n = fc0 + j[IW-1:0];
            assign b_en[j] = run && (rem != 4'd0) && (n < n_dim);
            assign b_r[j*IW +: IW] = g0 + {{(IW-2){1'b0}}, pick};
            assign b_c[j*IW +: IW] = n;
            wire [AW-1:0] s, c;
            ent_pe #(.DW(DW), .PW(AW)) pe (
                .clk(clk), .rst(rst), .en(run), .clear(pass_start), .digit(digit),
                .b(b_row[j*DW +: DW]), .sum(s), .carry(c));
            wire [AW-1:0] resolved = total[j*AW +: AW] + ((s + c) << shift);   // the one CPA of a pass
            assign dbg_acc[j*AW +: AW] = s + c;
            always @(posedge clk) begin
                if (rst || (start && !busy)) begin
                    total[j*AW +: AW] <= {AW{1'b0}};
                    out_q[j*AW +: AW] <= {AW{1'b0}};
                end else if (pend) begin
                    total[j*AW +: AW] <= pend_row ? {AW{1'b0}} : resolved;
                    if (pend_row) out_q[j*AW +: AW] <= resolved;
                end
            end
        end
    endgenerate
    assign out_data = out_q;
    gemm_buf #(.DW(DW), .ROWS(MAXK), .COLS(MAXN), .LANES(C), .IW(IW)) bbuf (
        .clk(clk), .we(ld_we && ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(b_en), .rrow(b_r), .rcol(b_c), .rdata(b_row));

    // ---- control ---------------------------------------------------------------------------------
    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; done <= 1'b0; run <= 1'b0; cycles <= {CW{1'b0}};
            m_dim <= ONE; n_dim <= ONE; k_dim <= ONE; fc0 <= 0; m <= 0; g0 <= 0; b <= 2'd0;
            served <= 4'd0; pass_start <= 1'b0; pend <= 1'b0; pend_row <= 1'b0; pend_last <= 1'b0;
            pend_final <= 1'b0; pend_b <= 2'd0; fin <= 1'b0;
            out_valid <= {C{1'b0}}; out_last <= {C{1'b0}};
        end else if (start && !busy) begin
            busy <= 1'b1; done <= 1'b0; run <= 1'b1; cycles <= {CW{1'b0}};
            m_dim <= dim_m; n_dim <= dim_n; k_dim <= dim_k; fc0 <= 0; m <= 0; g0 <= 0; b <= 2'd0;
            served <= 4'd0; pass_start <= 1'b1; pend <= 1'b0; fin <= 1'b0;
            out_valid <= {C{1'b0}}; out_last <= {C{1'b0}};
        end else if (busy) begin
            cycles <= cycles + 1'b1;
            // outputs of the pass resolved at this edge
            out_valid <= {C{pend && pend_row}};
            out_last <= {C{pend && pend_row && pend_last}};
            fin <= pend && pend_final;
            if (fin) begin
                done <= 1'b1;
                busy <= 1'b0;
            end
            pend <= pass_end;
            pend_row <= row_end;
            pend_last <= fold_end;
            pend_final <= op_end;
            pend_b <= b;
            if (run) begin
                pass_start <= pass_end;
                if (!group_last) begin
                    served <= served | pick_1h;
                end else begin
                    served <= 4'd0;
                    if (!last_group) begin
                        g0 <= g0 + FOUR;
                    end else begin
                        g0 <= 0;
                        b <= b + 2'd1;
                        if (b == 2'd3) begin
                            if (m + ONE < m_dim) begin
                                m <= m + ONE;
                            end else begin
                                m <= 0;
                                fc0 <= fc0 + CWD;
                                if (op_end) run <= 1'b0;
                            end
                        end
                    end
                end
            end
        end else begin
            done <= 1'b0;
            out_valid <= {C{1'b0}};
            out_last <= {C{1'b0}};
        end
    end
endmodule
