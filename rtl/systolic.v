// R x C systolic GEMM core: C[M,N] = A[M,K] @ B[K,N], INT DW -> INT AW, in either dataflow of
// docs/systolic_pipelined.md. The host loads A (ld_sel=0, addr m*MAXK+k) and B (ld_sel=1, addr k*MAXN+n),
// pulses start with dim_m/n/k (1..MAX*); results leave the bottom of each column on out_valid/out_data,
// and done rises with `cycles` = total cycles (docs/rtl.md). Both dataflows stream A into the rows (row
// i skewed by i) and pass it right with its valid and fold-last flags; what flows down differs:
//   WS=0, output-stationary: M on rows, K streamed. B enters the columns (column j skewed by j) and flows
//         down; each PE accumulates; a fold's results drain down the columns, rows R-1 first.
//   WS=1, weight-stationary: K on rows, M streamed. Each column has a skewed, row-addressed weight load
//         lane: in step t < R of a fold it writes row t of the fold's B tile into the PEs' shadow
//         registers, one step ahead of the data wavefront, so reloads hide behind streaming when M >= R.
//         Partial sums flow down and leave the bottom, one K-fold at a time.
// KP MACs per PE (docs/systolic_pipelined.md): every lane carries KP consecutive reduction terms
// (element q at bits q*DW, term k*KP + q, zero beyond K), a WS PE holds KP weights of its column,
// and each PE adds a KP-term dot product (pe_dot.v); skew, drain and weight-load depth stay R, C.
module systolic #(
    parameter integer R    = 4,
    parameter integer C    = 4,
    parameter integer WS   = 0,     // 0: output-stationary, 1: weight-stationary
    parameter integer KP   = 1,     // MACs per PE along the reduction
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
    localparam [IW-1:0] KPW = KP[IW-1:0];
    localparam integer VW = KP * DW;                        // a lane's KP operands
    localparam integer LA = VW + 2 + WS;                    // row lane: {a, stream, last} (WS: + first)
    localparam integer LB = (WS != 0) ? 1 + IW + VW : VW;   // column lane: B, or WS's {load, row, weights}

    wire          issuing;
    wire [IW-1:0] s_r, s_c, t_len, k_len;   // the latched dimensions: rows, columns, streamed steps, K
    wire [IW-1:0] t, fr, fc;
    gemm_ctrl #(.R(R), .C(C), .IW(IW), .CW(CW), .WS(WS), .KP(KP)) u_ctrl (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .s_r(s_r), .s_c(s_c), .t_len(t_len), .k_len(k_len),
        .fold_out(out_valid[C-1] & out_last[C-1]), .busy(busy), .done(done), .cycles(cycles),
        .issuing(issuing), .t(t), .fr(fr), .fc(fc));

    wire stream = issuing && (t < t_len);
    wire last   = issuing && (t == t_len - ONE);
    wire wload  = issuing && (t < RW);          // WS: the fold's weight rows load in its first R steps

    // edge lanes, KP terms each (term q reads reduction index k*KP + q of group k): row i carries A at
    // row index fr*R+i and group t (A[fr*R+i][t]; WS: A[t][group fr*R+i]); column j carries B[group t][fc*C+j]
    // (WS: B[group fr*R+t][fc*C+j] while the weights load)
    wire [R*KP-1:0]    a_en;
    wire [R*KP*IW-1:0] a_row, a_col;
    wire [R*VW-1:0]    a_edge;
    wire [C*KP-1:0]    b_en;
    wire [C*KP*IW-1:0] b_row, b_col;
    wire [C*VW-1:0]    b_edge;
    genvar i, j, q;
    generate
        for (i = 0; i < R; i = i + 1) begin : g_arow
            localparam [IW-1:0] IV = i;
            wire [IW-1:0] at = fr * RW + IV;
            for (q = 0; q < KP; q = q + 1) begin : g_term
                localparam [IW-1:0] QV = q;
                wire [IW-1:0] kk = ((WS != 0) ? at : t) * KPW + QV;   // this term's reduction index
                assign a_row[(i*KP+q)*IW +: IW] = (WS != 0) ? t : at;
                assign a_col[(i*KP+q)*IW +: IW] = kk;
                assign a_en[i*KP+q] = stream && (at < s_r) && (kk < k_len);
            end
        end
        for (j = 0; j < C; j = j + 1) begin : g_bcol
            localparam [IW-1:0] JV = j;
            wire [IW-1:0] kt = (WS != 0) ? fr * RW + t : t;
            for (q = 0; q < KP; q = q + 1) begin : g_term
                localparam [IW-1:0] QV = q;
                wire [IW-1:0] kk = kt * KPW + QV;
                assign b_row[(j*KP+q)*IW +: IW] = kk;
                assign b_col[(j*KP+q)*IW +: IW] = fc * CWD + JV;
                assign b_en[j*KP+q] = ((WS != 0) ? (wload && kt < s_r) : stream) && (fc * CWD + JV < s_c)
                                      && (kk < k_len);
            end
        end
    endgenerate

    gemm_operands #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .LA(R*KP), .LB(C*KP)) u_ops (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data),
        .a_en(a_en), .a_row(a_row), .a_col(a_col), .a_data(a_edge),
        .b_en(b_en), .b_row(b_row), .b_col(b_col), .b_data(b_edge));

    // the PE grid, flat index i*C+j: A with its flags passes right, (value, valid, last) flows down
    wire [LA-1:0]        rl [0:R-1];   // row lanes after the skew
    wire [LB-1:0]        cl [0:C-1];   // column lanes after the skew
    wire [VW-1:0]        a_q [0:R*C-1];
    wire                 v_q [0:R*C-1];
    wire                 l_q [0:R*C-1];
    wire signed [AW-1:0] o_q [0:R*C-1];
    wire                 ov_q [0:R*C-1];
    wire                 ol_q [0:R*C-1];
    wire [VW-1:0]        a_in [0:R*C-1];   // each PE's inputs: from the row lane or the left, from above
    wire                 v_in [0:R*C-1];
    wire                 l_in [0:R*C-1];
    wire signed [AW-1:0] o_in [0:R*C-1];
    generate
        for (i = 0; i < R; i = i + 1) begin : g_rskew
            wire [LA-1:0] lane_in;
            if (WS != 0) begin : g_ws
                assign lane_in = {a_edge[i*VW +: VW], stream, last, issuing && (t == {IW{1'b0}})};
            end else begin : g_os
                assign lane_in = {a_edge[i*VW +: VW], stream, last};
            end
            if (i == 0) begin : g_noskew
                assign rl[i] = lane_in;
            end else begin : g_skew
                localparam integer SKEW = i + ((FAULT == 1 && i == 1) ? 1 : 0);
                delay_line #(.W(LA), .D(SKEW)) u_skew (.clk(clk), .rst(rst), .d(lane_in), .q(rl[i]));
            end
        end
        for (j = 0; j < C; j = j + 1) begin : g_cskew
            wire [LB-1:0] lane_in;
            if (WS != 0) begin : g_ws
                assign lane_in = {wload, t, b_edge[j*VW +: VW]};
            end else begin : g_os
                assign lane_in = b_edge[j*VW +: VW];
            end
            if (j == 0) begin : g_noskew
                assign cl[j] = lane_in;
            end else begin : g_skew
                delay_line #(.W(LB), .D(j)) u_skew (.clk(clk), .rst(rst), .d(lane_in), .q(cl[j]));
            end
        end
        for (i = 0; i < R; i = i + 1) begin : g_row
            for (j = 0; j < C; j = j + 1) begin : g_col
                localparam integer K = i * C + j;
                assign a_in[K] = (j == 0) ? rl[i][LA-1 -: VW] : a_q[K-1];
                assign v_in[K] = (j == 0) ? rl[i][LA-VW-1] : v_q[K-1];
                assign l_in[K] = (j == 0) ? rl[i][LA-VW-2] : l_q[K-1];
                assign o_in[K] = (i == 0) ? {AW{1'b0}} : o_q[K-C];
                assign dbg_valid[K] = v_q[K];
                if (i == R - 1) begin : g_out
                    assign out_valid[j] = ov_q[K];
                    assign out_last[j] = ol_q[K];
                    assign out_data[j*AW +: AW] = o_q[K];
                end
            end
        end
        if (WS != 0) begin : g_ws
            wire fs_q [0:R*C-1];             // first element of a fold: take the shadow weight
            for (i = 0; i < R; i = i + 1) begin : g_row
                localparam [IW-1:0] IV = i;
                for (j = 0; j < C; j = j + 1) begin : g_col
                    localparam integer K = i * C + j;
                    wire fs_in = (j == 0) ? rl[i][0] : fs_q[K-1];
                    pe_ws #(.DW(DW), .AW(AW), .KP(KP)) u_pe (
                        .clk(clk), .rst(rst), .a_in(a_in[K]), .v_in(v_in[K]), .l_in(l_in[K]), .fs_in(fs_in),
                        .p_in(o_in[K]), .wl_hit(cl[j][LB-1] && (cl[j][VW +: IW] == IV)), .wl_data(cl[j][VW-1:0]),
                        .a(a_q[K]), .v(v_q[K]), .l(l_q[K]), .fs(fs_q[K]), .p(o_q[K]), .pv(ov_q[K]), .pl(ol_q[K]));
                    assign dbg_acc[K*AW +: AW] = o_q[K];
                end
            end
        end else begin : g_os
            /* verilator lint_off UNUSEDSIGNAL */  // the bottom row's forwarded b has no consumer
            wire [VW-1:0] b_q [0:R*C-1];
            /* verilator lint_on UNUSEDSIGNAL */
            wire signed [AW-1:0] acc_q [0:R*C-1];
            for (i = 0; i < R; i = i + 1) begin : g_row
                for (j = 0; j < C; j = j + 1) begin : g_col
                    localparam integer K = i * C + j;
                    wire [VW-1:0] b_in = (i == 0) ? cl[j] : b_q[K-C];
                    pe_os #(.DW(DW), .AW(AW), .KP(KP), .BOTTOM((i == R - 1) ? 1 : 0), .TOP((i == 0) ? 1 : 0)) u_pe (
                        .clk(clk), .rst(rst), .a_in(a_in[K]), .b_in(b_in), .v_in(v_in[K]), .l_in(l_in[K]),
                        .o_in(o_in[K]), .ov_in((i == 0) ? 1'b0 : ov_q[K-C]), .ol_in((i == 0) ? 1'b0 : ol_q[K-C]),
                        .load(v_q[(R-1)*C+j] & l_q[(R-1)*C+j]),
                        .a(a_q[K]), .b(b_q[K]), .v(v_q[K]), .l(l_q[K]), .acc(acc_q[K]),
                        .o(o_q[K]), .ov(ov_q[K]), .ol(ol_q[K]));
                    assign dbg_acc[K*AW +: AW] = acc_q[K];
                end
            end
        end
    endgenerate
endmodule
