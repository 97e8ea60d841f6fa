// The two operand buffers of a GEMM core behind the host's load port: A (ld_sel=0, ROWS MAXM x COLS
// MAXK) read by LA lanes and B (ld_sel=1, MAXK x MAXN) read by LB lanes; each lane reads (row, col)
// combinationally and returns 0 when its enable is low (gemm_buf.v).
module gemm_operands #(
    parameter integer DW   = 8,
    parameter integer IW   = 16,
    parameter integer MAXM = 16,
    parameter integer MAXN = 16,
    parameter integer MAXK = 16,
    parameter integer LA   = 1,    // A read lanes
    parameter integer LB   = 1     // B read lanes
) (
    input  wire             clk,
    input  wire             ld_we,
    input  wire             ld_sel,
    input  wire [IW-1:0]    ld_addr,
    input  wire [DW-1:0]    ld_data,
    input  wire [LA-1:0]    a_en,
    input  wire [LA*IW-1:0] a_row,
    input  wire [LA*IW-1:0] a_col,
    output wire [LA*DW-1:0] a_data,
    input  wire [LB-1:0]    b_en,
    input  wire [LB*IW-1:0] b_row,
    input  wire [LB*IW-1:0] b_col,
    output wire [LB*DW-1:0] b_data
);
    gemm_buf #(.DW(DW), .ROWS(MAXM), .COLS(MAXK), .LANES(LA), .IW(IW)) u_abuf (
        .clk(clk), .we(ld_we && !ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(a_en), .rrow(a_row), .rcol(a_col), .rdata(a_data));
    gemm_buf #(.DW(DW), .ROWS(MAXK), .COLS(MAXN), .LANES(LB), .IW(IW)) u_bbuf (
        .clk(clk), .we(ld_we && ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(b_en), .rrow(b_row), .rcol(b_col), .rdata(b_data));
endmodule
