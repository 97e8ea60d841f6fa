// Output-stationary R x C systolic GEMM core: C[M,N] = A[M,K] @ B[K,N], INT DW -> INT AW.
// Host loads A (ld_sel=0, addr m*MAXK+k) and B (ld_sel=1, addr k*MAXN+n), pulses start with
// dim_m/n/k (1..MAX*); results leave the bottom of each column on out_valid/out_data, fold by
// fold (rows R-1 first), and done rises with `cycles` = total cycles (docs/rtl.md).
module systolic_os #(
    parameter integer R    = 4,
    parameter integer C    = 4,
    // Fault injection, for proving the co-simulation catches a broken core: FAULT=1 gives row 1's
    // input skew one register too many. 0 (the default) elaborates to the exact same netlist.
    parameter integer FAULT = 0,
`include "gemm_params.vh"
) (
`include "gemm_port.vh"
    output wire [R*C*AW-1:0] dbg_acc,
    output wire [R*C-1:0]    dbg_valid
);
    localparam [IW-1:0] RW = R[IW-1:0];
    localparam [IW-1:0] CWD = C[IW-1:0];
    localparam [IW-1:0] ONE = 1;

    wire          issuing;
    wire [IW-1:0] m_q, n_q, k_q;    // the latched dimensions
    wire [IW-1:0] t, fr, fc;
    gemm_ctrl #(.R(R), .C(C), .IW(IW), .CW(CW), .WS(0)) u_ctrl (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .m_q(m_q), .n_q(n_q), .k_q(k_q),
        .fold_out(out_valid[C-1] & out_last[C-1]), .busy(busy), .done(done), .cycles(cycles),
        .issuing(issuing), .t(t), .fr(fr), .fc(fc));

    wire stream = issuing && (t < k_q);
    wire last   = issuing && (t == k_q - ONE);

    // edge lanes: row i carries A[fr*R+i][t], column j carries B[t][fc*C+j]
    wire [R-1:0]    a_en;
    wire [R*IW-1:0] a_row, a_col;
    wire [R*DW-1:0] a_edge;
    wire [C-1:0]    b_en;
    wire [C*IW-1:0] b_row, b_col;
    wire [C*DW-1:0] b_edge;
    genvar i, j;
    generate
        for (i = 0; i < R; i = i + 1) begin : g_arow
            localparam [IW-1:0] IV = i;
            assign a_row[i*IW +: IW] = fr * RW + IV;
            assign a_col[i*IW +: IW] = t;
            assign a_en[i] = stream && (fr * RW + IV < m_q);
        end
        for (j = 0; j < C; j = j + 1) begin : g_bcol
            localparam [IW-1:0] JV = j;
            assign b_row[j*IW +: IW] = t;
            assign b_col[j*IW +: IW] = fc * CWD + JV;
            assign b_en[j] = stream && (fc * CWD + JV < n_q);
        end
    endgenerate

    gemm_operands #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .LA(R), .LB(C)) u_ops (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data),
        .a_en(a_en), .a_row(a_row), .a_col(a_col), .a_data(a_edge),
        .b_en(b_en), .b_row(b_row), .b_col(b_col), .b_data(b_edge));

    // PE grid, flat index i*C+j
    wire signed [DW-1:0] a_q [0:R*C-1];
    /* verilator lint_off UNUSEDSIGNAL */  // the bottom row's forwarded b has no consumer
    wire signed [DW-1:0] b_q [0:R*C-1];
    /* verilator lint_on UNUSEDSIGNAL */
    wire                 v_q [0:R*C-1];
    wire                 l_q [0:R*C-1];
    wire signed [AW-1:0] o_q [0:R*C-1];
    wire                 ov_q [0:R*C-1];
    wire                 ol_q [0:R*C-1];
    wire signed [AW-1:0] acc_q [0:R*C-1];

    generate
        for (i = 0; i < R; i = i + 1) begin : g_row
            // row skew: i registers (then the PE's own input register)
            wire [DW+1:0] lane_in = {a_edge[i*DW +: DW], stream, last};
            wire [DW+1:0] lane;
            if (i == 0) begin : g_noskew
                assign lane = lane_in;
            end else begin : g_skew
                localparam integer SKEW = i + ((FAULT == 1 && i == 1) ? 1 : 0);
                delay_line #(.W(DW+2), .D(SKEW)) u_skew (.clk(clk), .rst(rst), .d(lane_in), .q(lane));
            end
            for (j = 0; j < C; j = j + 1) begin : g_col
                localparam integer K = i * C + j;
                wire signed [DW-1:0] a_in = (j == 0) ? lane[DW+1:2] : a_q[K-1];
                wire                 v_in = (j == 0) ? lane[1] : v_q[K-1];
                wire                 l_in = (j == 0) ? lane[0] : l_q[K-1];
                wire signed [DW-1:0] b_in;
                wire signed [AW-1:0] o_in;
                wire                 ov_in, ol_in;
                if (i == 0) begin : g_top
                    wire [DW-1:0] b_lane;
                    if (j == 0) begin : g_noskew
                        assign b_lane = b_edge[DW-1:0];
                    end else begin : g_skew
                        delay_line #(.W(DW), .D(j)) u_skew (
                            .clk(clk), .rst(rst), .d(b_edge[j*DW +: DW]), .q(b_lane));
                    end
                    assign b_in = b_lane;
                    assign o_in = {AW{1'b0}};
                    assign ov_in = 1'b0;
                    assign ol_in = 1'b0;
                end else begin : g_inner
                    assign b_in = b_q[K-C];
                    assign o_in = o_q[K-C];
                    assign ov_in = ov_q[K-C];
                    assign ol_in = ol_q[K-C];
                end
                pe_os #(.DW(DW), .AW(AW), .BOTTOM((i == R - 1) ? 1 : 0), .TOP((i == 0) ? 1 : 0)) u_pe (
                    .clk(clk), .rst(rst), .a_in(a_in), .b_in(b_in), .v_in(v_in), .l_in(l_in),
                    .o_in(o_in), .ov_in(ov_in), .ol_in(ol_in),
                    .load(v_q[(R-1)*C+j] & l_q[(R-1)*C+j]),
                    .a(a_q[K]), .b(b_q[K]), .v(v_q[K]), .l(l_q[K]), .acc(acc_q[K]),
                    .o(o_q[K]), .ov(ov_q[K]), .ol(ol_q[K]));
                assign dbg_acc[K*AW +: AW] = acc_q[K];
                assign dbg_valid[K] = v_q[K];
                if (i == R - 1) begin : g_out
                    assign out_valid[j] = ov_q[K];
                    assign out_last[j] = ol_q[K];
                    assign out_data[j*AW +: AW] = o_q[K];
                end
            end
        end
    endgenerate
endmodule
