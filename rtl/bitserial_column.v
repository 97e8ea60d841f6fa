// Bit-serial column GEMM core (Stripes MICRO'16 / Bit-Pragmatic MICRO'17 style, our own RTL):
// C[M,N] = A[M,K] @ B[K,N] with A taken one bit a cycle and B in parallel. A brick is L lanes of
// consecutive k; every cycle each lane contributes one bit of its activation, shifted, times the
// C weights B[k][fold + j], and an adder tree per column sums the lanes into the accumulator.
//   SKIP=0 (Stripes): all DW two's-complement bits, the top one negative: DW cycles a brick.
//   SKIP=1 (Pragmatic): only the essential bits of |a| (with a's sign), lowest first; the lanes of a
//          brick step together: max over lanes of popcount(|a|) cycles, floor 1.
// Port as the systolic cores (docs/rtl.md); each row's C results leave on out_valid/out_data in the
// cycle of its last step (folds in order, out_last on row M-1); done one cycle later, `cycles` =
// steps + 1. dbg_acc shows each column's accumulator for the per-cycle comparison.
module bitserial_column #(
    parameter integer L    = 4,
    parameter integer C    = 4,
    parameter integer SKIP = 1,
`include "gemm_params.vh"
) (
`include "gemm_port.vh"
    output wire [C*AW-1:0] dbg_acc
);
    localparam [IW-1:0] LW = L[IW-1:0];
    localparam integer  PB = (DW > 1) ? $clog2(DW) : 1;        // bit-position width
    localparam [PB-1:0] TOP = DW[PB-1:0] - 1'b1;

    wire           run, capture, row_end;   // capture = row_end (LAT 1)
    wire [IW-1:0]  n_dim, k_dim, fc0, m;
    reg  [IW-1:0]  k0;
    reg  [L*DW-1:0] served;          // SKIP=1: bits of each lane already issued
    reg  [PB-1:0]  t;               // SKIP=0: the bit position of this cycle
    gemm_rows #(.C(C), .IW(IW), .CW(CW), .LAT(1)) u_rows (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .row_end(row_end), .busy(busy), .done(done), .cycles(cycles), .out_valid(out_valid),
        .out_last(out_last), .capture(capture), .run(run), .m(m), .fc0(fc0), .n_dim(n_dim), .k_dim(k_dim));

    // ---- A lanes: the brick's activations, and each lane's bit this cycle ------------------------
    wire [L*DW-1:0]   a_brick;
    wire [L*C*DW-1:0] b_all;
    gemm_brick #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .L(L), .C(C)) u_brick (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data), .run(run), .m(m),
        .k0(k0), .fc0(fc0), .k_dim(k_dim), .n_dim(n_dim), .a_data(a_brick), .b_data(b_all));
    wire [L-1:0]    lane_has, lane_more, lane_neg;
    wire [L*PB-1:0] lane_pos;
    genvar l, j;
    generate
        for (l = 0; l < L; l = l + 1) begin : g_lane
            wire [DW-1:0] a = a_brick[l*DW +: DW];
            if (SKIP != 0) begin : g_skip
                wire [DW-1:0] mag = a[DW-1] ? (~a + 1'b1) : a;
                wire [DW-1:0] rem = mag & ~served[l*DW +: DW];
                wire [DW-1:0] low = rem & (~rem + 1'b1);            // lowest set bit, one-hot
                reg  [PB-1:0] pos;
                integer p;
                always @(*) begin
                    pos = {PB{1'b0}};
                    for (p = 0; p < DW; p = p + 1)
                        if (low[p]) pos = p[PB-1:0];
                end
                assign lane_has[l] = (rem != {DW{1'b0}});
                assign lane_more[l] = ((rem & ~low) != {DW{1'b0}});
                assign lane_pos[l*PB +: PB] = pos;
                assign lane_neg[l] = a[DW-1];
            end else begin : g_all
                assign lane_has[l] = a[t];
                assign lane_more[l] = 1'b0;
                assign lane_pos[l*PB +: PB] = t;
                assign lane_neg[l] = (t == TOP);                       // the sign bit weighs -2^(DW-1)
            end
        end
    endgenerate

    wire brick_last = (SKIP != 0) ? (lane_more == {L{1'b0}}) : (t == TOP);
    wire last_brick = (k0 + LW >= k_dim);
    assign row_end = run && brick_last && last_brick;

    // ---- B: L x C weights, and the columns' adder trees -----------------------------------------
    generate
        for (j = 0; j < C; j = j + 1) begin : g_col
            reg  [AW-1:0] tree;
            integer q;
            always @(*) begin
                tree = {AW{1'b0}};
                for (q = 0; q < L; q = q + 1) begin
                    if (lane_has[q])
                        tree = tree + (lane_neg[q]
                            ? ~(({{(AW-DW){b_all[(q*C + j)*DW + DW - 1]}}, b_all[(q*C + j)*DW +: DW]})
                                << lane_pos[q*PB +: PB]) + 1'b1
                            : ({{(AW-DW){b_all[(q*C + j)*DW + DW - 1]}}, b_all[(q*C + j)*DW +: DW]})
                                << lane_pos[q*PB +: PB]);
                end
            end
            row_acc #(.AW(AW)) u_acc (.clk(clk), .rst(rst), .init(start && !busy), .en(run), .last(capture),
                .add(tree), .sum(dbg_acc[j*AW +: AW]), .result(out_data[j*AW +: AW]));
        end
    endgenerate

    // ---- the brick walk (rows and folds: gemm_rows) -----------------------------------------------
    integer s;
    always @(posedge clk) begin
        if (rst || (start && !busy)) begin
            k0 <= {IW{1'b0}}; served <= {L*DW{1'b0}}; t <= {PB{1'b0}};
        end else if (run) begin
            if (!brick_last) begin
                t <= t + 1'b1;
                for (s = 0; s < L; s = s + 1)
                    served[s*DW +: DW] <= served[s*DW +: DW] | (lane_has[s] ? ({{(DW-1){1'b0}}, 1'b1} << lane_pos[s*PB +: PB]) : {DW{1'b0}});
            end else begin
                t <= {PB{1'b0}};
                served <= {L*DW{1'b0}};
                k0 <= last_brick ? {IW{1'b0}} : k0 + LW;
            end
        end
    end
endmodule
