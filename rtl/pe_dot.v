// A PE's multipliers: the KP-term dot product of two vectors of signed DW-bit values (element q at
// bits q*DW), each product sign-extended to AW bits and summed modulo 2^AW (written as a loop; a
// synthesis tool builds it as KP multipliers and an adder tree). KP = 1 is a one-MAC PE's multiply.
module pe_dot #(
    parameter integer DW = 8,
    parameter integer AW = 32,
    parameter integer KP = 1
) (
    input  wire [KP*DW-1:0]     a,
    input  wire [KP*DW-1:0]     b,
    output reg  signed [AW-1:0] dot
);
    reg signed [DW-1:0]   aq, bq;
    reg signed [2*DW-1:0] prod;
    integer q;
    always @* begin
        dot = {AW{1'b0}};
        for (q = 0; q < KP; q = q + 1) begin
            aq = a[q*DW +: DW];
            bq = b[q*DW +: DW];
            prod = aq * bq;
            dot = dot + {{(AW-2*DW){prod[2*DW-1]}}, prod};
        end
    end
endmodule
