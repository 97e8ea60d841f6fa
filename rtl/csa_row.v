// A row of C OPT1 carry-save PEs (rtl/csa_pe.v) as a GEMM core: C[M,N] = A[M,K] @ B[K,N], output
// stationary. Per fold of C columns and per row m, A[m][k] is broadcast and B[k][fold + j] fed to
// PE j for k = 0..K-1, one MAC per PE per cycle, back to back across rows; the carry-save pair is
// resolved by one carry-propagate add at the array edge as the next row starts. Port as the
// systolic cores (docs/rtl.md): each row's results leave on out_valid/out_data two cycles after its
// last issue (input register and tree; the edge CPA's register overlaps the next row), folds in
// order, out_last on row M-1; done one cycle later; `cycles` = M * K * folds + 3. dbg_acc shows
// each PE's sum + carry.
module csa_row #(
    parameter integer C    = 4,
`include "gemm_params.vh"
) (
`include "gemm_port.vh"
    output wire [C*AW-1:0] dbg_acc
);
    localparam [IW-1:0] ONE = 1;

    // a row's end travels issue -> input register -> tree -> edge CPA (out_data): LAT 3
    wire          run, capture;
    wire [IW-1:0] n_dim, k_dim, fc0, m;
    reg  [IW-1:0] k;
    wire          issue = run;
    wire          row_end = issue && (k + ONE == k_dim);
    gemm_rows #(.C(C), .IW(IW), .CW(CW), .LAT(3)) u_rows (
        .clk(clk), .rst(rst), .start(start), .dim_m(dim_m), .dim_n(dim_n), .dim_k(dim_k),
        .row_end(row_end), .busy(busy), .done(done), .cycles(cycles), .out_valid(out_valid),
        .out_last(out_last), .capture(capture), .run(run), .m(m), .fc0(fc0), .n_dim(n_dim), .k_dim(k_dim));
    always @(posedge clk) begin
        if (rst || (start && !busy)) k <= {IW{1'b0}};
        else if (run) k <= row_end ? {IW{1'b0}} : k + ONE;
    end

    // a brick of one k: A[m][k] and B[k][fc0 + j] for the C PEs
    wire [DW-1:0]   a_val;
    wire [C*DW-1:0] b_row;
    gemm_brick #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .L(1), .C(C)) u_brick (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data), .run(issue), .m(m),
        .k0(k), .fc0(fc0), .k_dim(k_dim), .n_dim(n_dim), .a_data(a_val), .b_data(b_row));
    reg  [C*AW-1:0] res;
    assign out_data = res;
    genvar j;
    generate
        for (j = 0; j < C; j = j + 1) begin : g_pe
            wire [AW-1:0] s, c;
            csa_pe #(.DW(DW), .AW(AW)) pe (
                .clk(clk), .rst(rst), .in_valid(issue), .in_clear(issue && k == 0),
                .a(a_val), .b(b_row[j*DW +: DW]), .sum(s), .carry(c));
            assign dbg_acc[j*AW +: AW] = s + c;
            always @(posedge clk) begin
                if (rst) res[j*AW +: AW] <= {AW{1'b0}};
                else if (capture) res[j*AW +: AW] <= s + c;     // the edge CPA
            end
        end
    endgenerate
endmodule
