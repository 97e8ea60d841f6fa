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

    // a brick: F consecutive k of row m, and their weights for each unit's column
    wire [F*DW-1:0]   a_vals;
    wire [F*C*DW-1:0] w_vals;
    gemm_brick #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .L(F), .C(C)) u_brick (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data), .run(run), .m(m),
        .k0(k0), .fc0(fc0), .k_dim(k_dim), .n_dim(n_dim), .a_data(a_vals), .b_data(w_vals));
    genvar j;
    generate
        for (j = 0; j < C; j = j + 1) begin : g_unit
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
            row_acc #(.AW(AW)) u_acc (.clk(clk), .rst(rst), .init(start && !busy), .en(run), .last(capture),
                .add(tree), .sum(dbg_acc[j*AW +: AW]), .result(out_data[j*AW +: AW]));
        end
    endgenerate
endmodule
