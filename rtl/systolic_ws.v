// Weight-stationary R x C systolic GEMM core: C[M,N] = A[M,K] @ B[K,N]; K on rows, N on columns,
// M streamed. Same host interface as systolic_os. Each column has a skewed, row-addressed weight
// load lane: in step t < R of a fold it writes row t of the fold's B tile into the PEs' shadow
// registers, one step ahead of the data wavefront, so reloads hide behind streaming when M >= R.
// Partial sums leave the bottom of each column (out_valid/out_data), one K-fold at a time.
module systolic_ws #(
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
    localparam integer LW = 1 + IW + DW;   // weight lane: {valid, row, data}

    wire          issuing;
    wire [IW-1:0] m_q, n_q, k_q;    // the latched dimensions
    wire [IW-1:0] t, fr, fc;
    gemm_ctrl #(.R(R), .C(C), .IW(IW), .CW(CW), .WS(1)) u_ctrl (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .m_q(m_q), .n_q(n_q), .k_q(k_q),
        .fold_out(out_valid[C-1] & out_last[C-1]), .busy(busy), .done(done), .cycles(cycles),
        .issuing(issuing), .t(t), .fr(fr), .fc(fc));

    wire stream = issuing && (t < m_q);
    wire first  = issuing && (t == {IW{1'b0}});
    wire last   = issuing && (t == m_q - ONE);
    wire wload  = issuing && (t < RW);

    // row i carries A[t][fr*R+i]; column j's load lane carries B[fr*R+t][fc*C+j] for t < R
    wire [R-1:0]    a_en;
    wire [R*IW-1:0] a_row, a_col;
    wire [R*DW-1:0] a_edge;
    wire [C-1:0]    w_en;
    wire [C*IW-1:0] w_row, w_col;
    wire [C*DW-1:0] w_edge;
    genvar i, j;
    generate
        for (i = 0; i < R; i = i + 1) begin : g_arow
            localparam [IW-1:0] IV = i;
            assign a_row[i*IW +: IW] = t;
            assign a_col[i*IW +: IW] = fr * RW + IV;
            assign a_en[i] = stream && (fr * RW + IV < k_q);
        end
        for (j = 0; j < C; j = j + 1) begin : g_wcol
            localparam [IW-1:0] JV = j;
            assign w_row[j*IW +: IW] = fr * RW + t;
            assign w_col[j*IW +: IW] = fc * CWD + JV;
            assign w_en[j] = wload && (fr * RW + t < k_q) && (fc * CWD + JV < n_q);
        end
    endgenerate

    gemm_operands #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .LA(R), .LB(C)) u_ops (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data),
        .a_en(a_en), .a_row(a_row), .a_col(a_col), .a_data(a_edge),
        .b_en(w_en), .b_row(w_row), .b_col(w_col), .b_data(w_edge));

    wire signed [DW-1:0] a_q [0:R*C-1];
    wire                 v_q [0:R*C-1];
    wire                 l_q [0:R*C-1];
    wire                 fs_q [0:R*C-1];
    wire signed [AW-1:0] p_q [0:R*C-1];
    wire                 pv_q [0:R*C-1];
    wire                 pl_q [0:R*C-1];
    wire [LW-1:0]        wl [0:C-1];    // weight lane after column skew

    generate
        for (j = 0; j < C; j = j + 1) begin : g_wskew
            wire [LW-1:0] lane_in = {wload, t, w_edge[j*DW +: DW]};
            if (j == 0) begin : g_noskew
                assign wl[j] = lane_in;
            end else begin : g_skew
                delay_line #(.W(LW), .D(j)) u_skew (.clk(clk), .rst(rst), .d(lane_in), .q(wl[j]));
            end
        end
        for (i = 0; i < R; i = i + 1) begin : g_row
            localparam [IW-1:0] IV = i;
            wire [DW+2:0] lane_in = {a_edge[i*DW +: DW], stream, last, first};
            wire [DW+2:0] lane;
            if (i == 0) begin : g_noskew
                assign lane = lane_in;
            end else begin : g_skew
                localparam integer SKEW = i + ((FAULT == 1 && i == 1) ? 1 : 0);
                delay_line #(.W(DW+3), .D(SKEW)) u_skew (.clk(clk), .rst(rst), .d(lane_in), .q(lane));
            end
            for (j = 0; j < C; j = j + 1) begin : g_col
                localparam integer K = i * C + j;
                wire signed [DW-1:0] a_in  = (j == 0) ? lane[DW+2:3] : a_q[K-1];
                wire                 v_in  = (j == 0) ? lane[2] : v_q[K-1];
                wire                 l_in  = (j == 0) ? lane[1] : l_q[K-1];
                wire                 fs_in = (j == 0) ? lane[0] : fs_q[K-1];
                wire signed [AW-1:0] p_in  = (i == 0) ? {AW{1'b0}} : p_q[K-C];
                wire                 hit   = wl[j][LW-1] && (wl[j][DW +: IW] == IV);
                pe_ws #(.DW(DW), .AW(AW)) u_pe (
                    .clk(clk), .rst(rst), .a_in(a_in), .v_in(v_in), .l_in(l_in), .fs_in(fs_in),
                    .p_in(p_in), .wl_hit(hit), .wl_data(wl[j][DW-1:0]),
                    .a(a_q[K]), .v(v_q[K]), .l(l_q[K]), .fs(fs_q[K]),
                    .p(p_q[K]), .pv(pv_q[K]), .pl(pl_q[K]));
                assign dbg_acc[K*AW +: AW] = p_q[K];
                assign dbg_valid[K] = v_q[K];
                if (i == R - 1) begin : g_out
                    assign out_valid[j] = pv_q[K];
                    assign out_last[j] = pl_q[K];
                    assign out_data[j*AW +: AW] = p_q[K];
                end
            end
        end
    endgenerate
endmodule
