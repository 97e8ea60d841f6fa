// The operands of one brick of a row-at-a-time GEMM core, behind the host's load port (gemm_operands.v):
// L consecutive k of row m of A (a_data lane l = A[m][k0+l]) and, for each of the C columns fc0+j, the
// L weights B[k0+l][fc0+j] (b_data lane l*C+j); lanes past K or N (or with `run` low) read 0.
module gemm_brick #(
    parameter integer DW   = 8,
    parameter integer IW   = 16,
    parameter integer MAXM = 16,
    parameter integer MAXN = 16,
    parameter integer MAXK = 16,
    parameter integer L    = 1,
    parameter integer C    = 1
) (
    input  wire              clk,
    input  wire              ld_we,
    input  wire              ld_sel,
    input  wire [IW-1:0]     ld_addr,
    input  wire [DW-1:0]     ld_data,
    input  wire              run,
    input  wire [IW-1:0]     m,
    input  wire [IW-1:0]     k0,
    input  wire [IW-1:0]     fc0,
    input  wire [IW-1:0]     k_dim,
    input  wire [IW-1:0]     n_dim,
    output wire [L*DW-1:0]   a_data,
    output wire [L*C*DW-1:0] b_data
);
    wire [L-1:0]      a_en;
    wire [L*IW-1:0]   a_row, a_col;
    wire [L*C-1:0]    b_en;
    wire [L*C*IW-1:0] b_row, b_col;
    genvar l, j;
    generate
        for (l = 0; l < L; l = l + 1) begin : g_lane
            wire [IW-1:0] k = k0 + l[IW-1:0];
            assign a_en[l] = run && (k < k_dim);
            assign a_row[l*IW +: IW] = m;
            assign a_col[l*IW +: IW] = k;
            for (j = 0; j < C; j = j + 1) begin : g_col
                wire [IW-1:0] n = fc0 + j[IW-1:0];
                assign b_en[l*C + j] = a_en[l] && (n < n_dim);
                assign b_row[(l*C + j)*IW +: IW] = k;
                assign b_col[(l*C + j)*IW +: IW] = n;
            end
        end
    endgenerate
    gemm_operands #(.DW(DW), .IW(IW), .MAXM(MAXM), .MAXN(MAXN), .MAXK(MAXK), .LA(L), .LB(L*C)) u_ops (
        .clk(clk), .ld_we(ld_we), .ld_sel(ld_sel), .ld_addr(ld_addr), .ld_data(ld_data),
        .a_en(a_en), .a_row(a_row), .a_col(a_col), .a_data(a_data),
        .b_en(b_en), .b_row(b_row), .b_col(b_col), .b_data(b_data));
endmodule
