// Bit Fusion (ISCA'18) fusion units as a GEMM core (our own RTL): each of C units holds 16 BitBricks
// (2-bit x 2-bit products); at activation width PA and weight width PW (2, 4 or 8) a unit fuses them
// into F = (8/PA)(8/PW) MACs a cycle: brick (f, i, j) multiplies 2-bit slice i of a = A[m][k0+f] by
// slice j of w = B[k0+f][n] (the top slice of each operand signed, the others unsigned) and the
// shift-add tree weighs it by 4^(i+j). Operands sit in the buffers as DW-bit words whose low PA/PW
// bits hold the value. Port as the systolic cores (docs/rtl.md): ceil(K/F) cycles per row; each row's
// results leave on out_valid/out_data in the cycle of its last step; done one cycle later, `cycles`
// = steps + 1. dbg_acc shows each unit's accumulator.
module bitfusion_row #(
    parameter integer C    = 4,
    parameter integer PA   = 8,
    parameter integer PW   = 8,
`include "gemm_params.vh"
) (
`include "gemm_port.vh"
    output wire [C*AW-1:0] dbg_acc
);
    localparam integer SA = PA / 2, SW = PW / 2;        // 2-bit slices per operand
    localparam integer F = 16 / (SA * SW);              // MACs fused per cycle
    localparam [IW-1:0] FW = F[IW-1:0];

    wire          run, capture;
    wire [IW-1:0] n_dim, k_dim, fc0, m;
    reg  [IW-1:0] k0;
    wire last_step = (k0 + FW >= k_dim);
    wire row_end = run && last_step;
    gemm_rows #(.C(C), .IW(IW), .CW(CW), .LAT(1)) u_rows (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .row_end(row_end), .busy(busy), .done(done), .cycles(cycles), .out_valid(out_valid),
        .out_last(out_last), .capture(capture), .run(run), .m(m), .fc0(fc0), .n_dim(n_dim), .k_dim(k_dim));
    always @(posedge clk) begin
        if (rst || (start && !busy)) k0 <= {IW{1'b0}};
        else if (run) k0 <= last_step ? {IW{1'b0}} : k0 + FW;
    end

    wire [F*DW-1:0] a_vals;
    wire [F-1:0]    a_en;
    wire [F*IW-1:0] a_r, a_c;
    genvar f, j;
    generate
        for (f = 0; f < F; f = f + 1) begin : g_a
            assign a_en[f] = run && (k0 + f[IW-1:0] < k_dim);
            assign a_r[f*IW +: IW] = m;
            assign a_c[f*IW +: IW] = k0 + f[IW-1:0];
        end
    endgenerate

    wire [F*C*DW-1:0] w_vals;
    wire [F*C-1:0]    w_en;
    wire [F*C*IW-1:0] w_r, w_c;
    reg  [C*AW-1:0]   acc, res;
    assign out_data = res;
    generate
        for (j = 0; j < C; j = j + 1) begin : g_unit
            wire [IW-1:0] n = fc0 + j[IW-1:0];
            for (f = 0; f < F; f = f + 1) begin : g_w
                assign w_en[f*C + j] = a_en[f] && (n < n_dim);
                assign w_r[(f*C + j)*IW +: IW] = k0 + f[IW-1:0];
                assign w_c[(f*C + j)*IW +: IW] = n;
            end
            // the 16 bricks and the shift-add tree
            reg [AW-1:0] tree;
            reg signed [2:0] sa, sw;
            reg signed [5:0] pr;
            integer bf, bi, bj;
            always @(*) begin
                tree = {AW{1'b0}};
                for (bf = 0; bf < F; bf = bf + 1)
                    for (bi = 0; bi < SA; bi = bi + 1)
                        for (bj = 0; bj < SW; bj = bj + 1) begin
                            sa = (bi == SA - 1) ? {a_vals[bf*DW + 2*bi + 1], a_vals[bf*DW + 2*bi +: 2]}
                                                : {1'b0, a_vals[bf*DW + 2*bi +: 2]};
                            sw = (bj == SW - 1)
                                ? {w_vals[(bf*C + j)*DW + 2*bj + 1], w_vals[(bf*C + j)*DW + 2*bj +: 2]}
                                : {1'b0, w_vals[(bf*C + j)*DW + 2*bj +: 2]};
                            pr = sa * sw;                       // one BitBrick
                            tree = tree + ({{(AW-6){pr[5]}}, pr} << (2 * (bi + bj)));
                        end
            end
            wire [AW-1:0] next = acc[j*AW +: AW] + tree;
            assign dbg_acc[j*AW +: AW] = acc[j*AW +: AW];
            always @(posedge clk) begin
                if (rst || (start && !busy)) begin
                    acc[j*AW +: AW] <= {AW{1'b0}};
                    res[j*AW +: AW] <= {AW{1'b0}};
                end else if (run) begin
                    acc[j*AW +: AW] <= row_end ? {AW{1'b0}} : next;
                    if (capture) res[j*AW +: AW] <= next;
                end
            end
        end
    endgenerate
    gemm_operands #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .LA(F), .LB(F*C)) u_ops (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data),
        .a_en(a_en), .a_row(a_r), .a_col(a_c), .a_data(a_vals),
        .b_en(w_en), .b_row(w_r), .b_col(w_c), .b_data(w_vals));
endmodule
