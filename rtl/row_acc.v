// A row accumulator of the bit-weight cores (one per output column): while `en`, adds `add` into `sum`;
// in the cycle that ends a row (`last`, with `en`) it puts sum + add out on `result` and restarts at zero.
// `init` (the core's start) and `rst` clear both.
module row_acc #(
    parameter integer AW = 32
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          init,
    input  wire          en,
    input  wire          last,
    input  wire [AW-1:0] add,
    output reg  [AW-1:0] sum,
    output reg  [AW-1:0] result
);
    wire [AW-1:0] next = sum + add;
    always @(posedge clk) begin
        if (rst || init) begin
            sum <= {AW{1'b0}};
            result <= {AW{1'b0}};
        end else if (en) begin
            sum <= last ? {AW{1'b0}} : next;
            if (last) result <= next;
        end
    end
endmodule
