// Operand buffer: ROWS x COLS elements, row-major, written one element per cycle by the host
// before `start`; LANES combinational read ports return 0 when their enable is low (edge folds
// and bubbles are zero-padded, never read out of range).
module gemm_buf #(
    parameter integer DW    = 8,
    parameter integer ROWS  = 16,
    parameter integer COLS  = 16,
    parameter integer LANES = 4,
    parameter integer IW    = 16
) (
    input  wire                clk,
    input  wire                we,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [IW-1:0]       waddr,   // only the low clog2(DEPTH) bits address the buffer
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [DW-1:0]       wdata,
    input  wire [LANES-1:0]    ren,
    input  wire [LANES*IW-1:0] rrow,
    input  wire [LANES*IW-1:0] rcol,
    output wire [LANES*DW-1:0] rdata
);
    localparam integer DEPTH = ROWS * COLS;
    localparam integer AB = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam [IW-1:0] COLS_W = COLS[IW-1:0];

    reg [DW-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (we) mem[waddr[AB-1:0]] <= wdata;
    end

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            /* verilator lint_off UNUSEDSIGNAL */
            wire [IW-1:0] addr = rrow[l*IW +: IW] * COLS_W + rcol[l*IW +: IW];
            /* verilator lint_on UNUSEDSIGNAL */
            assign rdata[l*DW +: DW] = ren[l] ? mem[addr[AB-1:0]] : {DW{1'b0}};
        end
    endgenerate
endmodule
