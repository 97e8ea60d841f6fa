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
`include "gemm_params.vh"
) (
`include "gemm_port.vh"
    output wire [C*AW-1:0] dbg_acc      // each PE's pass value sum + carry (debug: the bench's trace)
);
    localparam integer ND = DW / 2;
    localparam [IW-1:0] FOUR = 4;

    // ---- sequencer state (rows and folds: gemm_rows; a row's results leave 2 registers after its
    // last step: the pass resolution, then out_valid) ---------------------------------------------
    wire         run, capture, row_end;
    wire [IW-1:0] n_dim, k_dim;
    wire [IW-1:0] fc0;            // first column of the current fold
    wire [IW-1:0] m;              // row of A
    reg  [IW-1:0] g0;             // first k of the current group
    reg  [1:0]    b;              // bit weight (radix-4 digit index) of the current pass
    reg  [3:0]    served;         // digits of the group already issued
    reg           pass_start;
    reg           pend;           // a pass to resolve (one cycle behind the pass)
    reg  [1:0]    pend_b;
    gemm_rows #(.C(C), .IW(IW), .CW(CW), .LAT(2)) u_rows (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .row_end(row_end), .busy(busy), .done(done), .cycles(cycles), .out_valid(out_valid),
        .out_last(out_last), .capture(capture), .run(run), .m(m), .fc0(fc0), .n_dim(n_dim), .k_dim(k_dim));

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
    assign     row_end = pass_end && (b == 2'd3);

    // ---- B lanes and the PEs -------------------------------------------------------------------
    wire [C*DW-1:0] b_row;
    wire [C-1:0]    b_en;
    wire [C*IW-1:0] b_r, b_c;
    wire [AW-1:0]   shift = {{(AW-3){1'b0}}, pend_b, 1'b0};   // 2 * b of the pass being resolved
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
            assign dbg_acc[j*AW +: AW] = s + c;
            // the one CPA of a pass: the row total plus the pass value weighted by its digit position
            /* verilator lint_off PINCONNECTEMPTY */
            row_acc #(.AW(AW)) u_total (.clk(clk), .rst(rst), .init(start && !busy), .en(pend), .last(capture),
                .add((s + c) << shift), .sum(), .result(out_data[j*AW +: AW]));
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate
    gemm_operands #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .LA(4), .LB(C)) u_ops (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data),
        .a_en(a_en), .a_row(a_row), .a_col(a_col), .a_data(a_grp),
        .b_en(b_en), .b_row(b_r), .b_col(b_c), .b_data(b_row));

    // ---- the digit scheduler's walk (rows and folds: gemm_rows) --------------------------------
    always @(posedge clk) begin
        if (rst) begin
            g0 <= {IW{1'b0}}; b <= 2'd0; served <= 4'd0; pass_start <= 1'b0; pend <= 1'b0; pend_b <= 2'd0;
        end else if (start && !busy) begin
            g0 <= {IW{1'b0}}; b <= 2'd0; served <= 4'd0; pass_start <= 1'b1; pend <= 1'b0;
        end else if (busy) begin
            pend <= pass_end;
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
                        g0 <= {IW{1'b0}};
                        b <= b + 2'd1;
                    end
                end
            end
        end
    end
endmodule
