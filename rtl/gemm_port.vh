// The GEMM port (docs/rtl.md "Core interface"), shared by every GEMM core: clock and reset, the host's
// operand load, start with the dimensions, the handshake and the C result lanes. Included at the head of
// a core's port list (it ends with a comma); the core adds its debug ports after it.
    input  wire            clk,
    input  wire            rst,
    input  wire            ld_we,
    input  wire            ld_sel,     // 0: A[m][k] at m*MAXK + k; 1: B[k][n] at k*MAXN + n
    input  wire [IW-1:0]   ld_addr,
    input  wire [DW-1:0]   ld_data,
    input  wire            start,
    input  wire [IW-1:0]   dim_m,
    input  wire [IW-1:0]   dim_n,
    input  wire [IW-1:0]   dim_k,
    output wire            busy,
    output wire            done,
    output wire [CW-1:0]   cycles,
    output wire [C-1:0]    out_valid,
    output wire [C-1:0]    out_last,
    output wire [C*AW-1:0] out_data,
