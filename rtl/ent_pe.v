// One PE of the EN-T sparse column: the partial product digit * b (0, +-b, +-2b: a mux and a negate,
// no multiplier) enters a 3:2 carry-save accumulator; (sum, carry) are registered and no
// carry-propagate adder sits in the loop. `clear` starts a new pass (bit weight): the accumulator
// restarts from the partial product. Value = sum + carry (mod 2^PW).
module ent_pe #(
    parameter integer DW = 8,
    parameter integer PW = 32
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire          clear,
    input  wire [2:0]    digit,
    input  wire [DW-1:0] b,
    output reg  [PW-1:0] sum,
    output reg  [PW-1:0] carry
);
    wire [PW-1:0] bx = {{(PW-DW){b[DW-1]}}, b};
    reg  [PW-1:0] pp;
    always @(*) begin
        case (digit)
            3'd1:    pp = bx;
            3'd2:    pp = bx << 1;
            3'b111:  pp = ~bx + 1'b1;
            3'b110:  pp = ~(bx << 1) + 1'b1;
            default: pp = {PW{1'b0}};
        endcase
    end
    wire [PW-1:0] s0 = clear ? {PW{1'b0}} : sum;
    wire [PW-1:0] c0 = clear ? {PW{1'b0}} : carry;
    always @(posedge clk) begin
        if (rst) begin
            sum   <= {PW{1'b0}};
            carry <= {PW{1'b0}};
        end else if (en) begin
            sum   <= s0 ^ c0 ^ pp;
            carry <= ((s0 & c0) | (s0 & pp) | (c0 & pp)) << 1;
        end
    end
endmodule
