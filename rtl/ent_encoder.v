// EN-T recoder (ICCD'24 EN-T, HPCA'25 OPT3; restated, our own RTL): the magnitude of a signed DW-bit
// operand in radix 4 with a carry chain, low digit first: v = slice + carry, digit = {0:0, 1:1, 2:2,
// 3:-1, 4:0}[v], carry out = (v >= 3); every digit takes the operand's sign. Combinational.
// Output: DW/2 digits, each 3-bit two's complement in -2..2 (the most negative operand's magnitude
// 2^(DW-1) is still a DW-bit unsigned pattern, so it needs no special case).
module ent_encoder #(
    parameter integer DW = 8
) (
    input  wire [DW-1:0]       x,
    output wire [3*(DW/2)-1:0] digits
);
    localparam integer ND = DW / 2;
    wire          neg = x[DW-1];
    wire [DW-1:0] mag = neg ? (~x + 1'b1) : x;
    reg  [3*ND-1:0] out;
    reg  [2:0]      v, d;
    reg             carry;          // never set after the top digit for |x| <= 2^(DW-1)
    integer i;
    always @(*) begin
        carry = 1'b0;
        out = {3*ND{1'b0}};
        for (i = 0; i < ND; i = i + 1) begin
            v = {1'b0, mag[2*i +: 2]} + {2'b00, carry};
            carry = (v >= 3'd3);
            case (v)
                3'd1:    d = 3'd1;
                3'd2:    d = 3'd2;
                3'd3:    d = 3'b111;     // -1
                default: d = 3'd0;       // 0 and 4
            endcase
            out[3*i +: 3] = neg ? (~d + 3'd1) : d;
        end
    end
    assign digits = out;
endmodule
