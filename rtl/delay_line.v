// D-stage shift register (D >= 1): the input skew of one array row or column lane.
module delay_line #(
    parameter integer W = 8,
    parameter integer D = 1
) (
    input  wire         clk,
    input  wire         rst,
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
    reg [W-1:0] sr [0:D-1];
    integer k;
    always @(posedge clk) begin
        if (rst) begin
            for (k = 0; k < D; k = k + 1) sr[k] <= {W{1'b0}};
        end else begin
            sr[0] <= d;
            for (k = 1; k < D; k = k + 1) sr[k] <= sr[k-1];
        end
    end
    assign q = sr[D-1];
endmodule
