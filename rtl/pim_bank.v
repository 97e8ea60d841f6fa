// One DRAM bank with a LANES-lane MAC unit beside its row buffer, driven by DRAM commands.
// Timing is data: DELAY[(p*NCMD+n)*DLW +: DLW] is the spec's largest delay from command p to command n
// (every rule of memory/specs/PIM-BANK.yaml that applies within one bank; the bench derives it from the
// compiled spec), kept as one next-allowed cycle per command, as memory/dram/controller.py keeps them.
// A command is accepted when cycle >= its next-allowed cycle and the bank state allows it (ACT, ACTAB,
// REF, REFsb on a closed bank; RD, WR, MAC, MACAB on the open row); otherwise `err` pulses and nothing
// changes. The device is one bank, so the all-bank commands act on it: ACTAB as ACT, PREAB as PRE, MACAB
// as MAC, each under its own timing rules (tRCDMAC, tCCDAB, ...).
// Data: ACT copies the row into the row buffer, PRE writes it back; WR/RD write/read a column of the
// row buffer; WRGB writes a column of the input buffer; MAC adds rowbuf[col][l] * gb[col][l] into lane
// l's accumulator; RDACC returns the adder tree's sum of the accumulators; CLRACC clears them. REF and
// REFsb keep the data (refresh); their cost is the time the rules hold the next ACT off (tRFC, tRFCsb).
module pim_bank #(
    parameter integer NCMD = 12,
    parameter integer LANES = 16,
    parameter integer DW = 16,          // lane operand bits (signed)
    parameter integer AW = 40,          // accumulator bits
    parameter integer ROWS = 16,
    parameter integer COLS = 8,
    parameter integer RW = 4,           // row address bits
    parameter integer CLW = 3,          // column address bits
    parameter integer TW = 24,          // cycle counter bits
    parameter integer DLW = 16,         // bits of one DELAY field
    parameter [NCMD*NCMD*DLW-1:0] DELAY = 0,
    parameter integer C_ACT = 0,
    parameter integer C_PRE = 1,
    parameter integer C_RD = 2,
    parameter integer C_WR = 3,
    parameter integer C_REF = 6,
    parameter integer C_REFSB = 7,
    parameter integer C_MAC = 8,
    parameter integer C_WRGB = 9,
    parameter integer C_RDACC = 10,
    parameter integer C_CLRACC = 11,
    parameter integer C_ACTAB = 12,
    parameter integer C_PREAB = 13,
    parameter integer C_MACAB = 14
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    cmd_valid,
    input  wire [3:0]              cmd,
    input  wire [RW-1:0]           row,
    input  wire [CLW-1:0]          col,
    input  wire [LANES*DW-1:0]     wdata,
    output reg                     err,
    output reg                     ok,
    output reg                     rd_valid,
    output reg  [LANES*DW-1:0]     rdata,
    output reg                     acc_valid,
    output reg  signed [AW+7:0]    acc_sum,
    output reg  [TW-1:0]           cycle,
    output reg                     is_open,
    output reg  [RW-1:0]           open_row
);
    reg [LANES*DW-1:0] mem    [0:ROWS*COLS-1];
    reg [LANES*DW-1:0] rowbuf [0:COLS-1];
    reg [LANES*DW-1:0] gb     [0:COLS-1];
    reg signed [AW-1:0] acc   [0:LANES-1];
    reg [TW-1:0] na [0:NCMD-1];

    wire opens  = cmd == C_ACT[3:0] || cmd == C_ACTAB[3:0];
    wire closes = cmd == C_PRE[3:0] || cmd == C_PREAB[3:0];
    wire mac    = cmd == C_MAC[3:0] || cmd == C_MACAB[3:0];
    wire on_row = cmd == C_RD[3:0] || cmd == C_WR[3:0] || mac;
    wire idle   = opens || cmd == C_REF[3:0] || cmd == C_REFSB[3:0];     // needs the bank precharged
    wire known  = idle || closes || on_row || cmd == C_WRGB[3:0] || cmd == C_RDACC[3:0] || cmd == C_CLRACC[3:0];
    wire state_ok = idle ? !is_open : on_row ? (is_open && open_row == row) : 1'b1;
    wire in_range = {28'd0, cmd} < NCMD;
    wire timing_ok = in_range && cycle >= na[cmd];
    wire legal = cmd_valid && known && in_range && timing_ok && state_ok;

    // a lane's signed product, sign-extended to the accumulator
    function signed [AW-1:0] mul_ext(input [DW-1:0] a, input [DW-1:0] b);
        reg signed [2*DW-1:0] p;
        begin
            p = $signed(a) * $signed(b);
            mul_ext = {{(AW-2*DW){p[2*DW-1]}}, p};
        end
    endfunction

    // adder tree over the lane accumulators (combinational; registered by RDACC)
    reg signed [AW+7:0] tree;
    integer l, n, c;
    always @* begin
        tree = 0;
        for (l = 0; l < LANES; l = l + 1) tree = tree + {{8{acc[l][AW-1]}}, acc[l]};
    end

    always @(posedge clk) begin
        if (rst) begin
            cycle <= 0; err <= 0; ok <= 0; rd_valid <= 0; acc_valid <= 0; is_open <= 0; open_row <= 0;
            rdata <= 0; acc_sum <= 0;
            for (n = 0; n < NCMD; n = n + 1) na[n] <= 0;
            for (l = 0; l < LANES; l = l + 1) acc[l] <= 0;
            for (c = 0; c < COLS; c = c + 1) begin rowbuf[c] <= 0; gb[c] <= 0; end
            for (c = 0; c < ROWS*COLS; c = c + 1) mem[c] <= 0;
        end else begin
            cycle <= cycle + 1;
            err <= cmd_valid && !legal;
            ok <= legal;
            rd_valid <= legal && cmd == C_RD[3:0];
            acc_valid <= legal && cmd == C_RDACC[3:0];
            if (legal) begin
                for (n = 0; n < NCMD; n = n + 1)
                    if (cycle + {{(TW-DLW){1'b0}}, DELAY[({28'd0, cmd}*NCMD+n)*DLW +: DLW]} > na[n])
                        na[n] <= cycle + {{(TW-DLW){1'b0}}, DELAY[({28'd0, cmd}*NCMD+n)*DLW +: DLW]};
                if (opens) begin
                    is_open <= 1; open_row <= row;
                    for (c = 0; c < COLS; c = c + 1) rowbuf[c] <= mem[{28'd0, row}*COLS + c];
                end
                if (closes && is_open) begin
                    is_open <= 0;
                    for (c = 0; c < COLS; c = c + 1) mem[{28'd0, open_row}*COLS + c] <= rowbuf[c];
                end
                if (cmd == C_WR[3:0]) rowbuf[col] <= wdata;
                if (cmd == C_RD[3:0]) rdata <= rowbuf[col];
                if (cmd == C_WRGB[3:0]) gb[col] <= wdata;
                if (mac)
                    for (l = 0; l < LANES; l = l + 1)
                        acc[l] <= acc[l] + mul_ext(rowbuf[col][l*DW +: DW], gb[col][l*DW +: DW]);
                if (cmd == C_CLRACC[3:0])
                    for (l = 0; l < LANES; l = l + 1) acc[l] <= 0;
                if (cmd == C_RDACC[3:0]) acc_sum <= tree;
            end
        end
    end
endmodule
