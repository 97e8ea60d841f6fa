// Output-stationary PE. a/b/v/l are the input registers (forwarded right / down). On the last
// element of a fold (v & l) the result goes to `hold` and the accumulator clears. When the
// column's bottom PE captures, every PE of the column loads its result into the drain chain
// (o, ov, ol), which then shifts down one row per cycle; ol marks row 0, the fold's last result.
// With KP MACs a and b carry KP consecutive reduction terms and the PE adds their dot product.
module pe_os #(
    parameter integer DW     = 8,
    parameter integer AW     = 32,
    parameter integer KP     = 1,
    parameter integer BOTTOM = 0,
    parameter integer TOP    = 0
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [KP*DW-1:0]     a_in,
    input  wire [KP*DW-1:0]     b_in,
    input  wire                 v_in,
    input  wire                 l_in,
    input  wire signed [AW-1:0] o_in,
    input  wire                 ov_in,
    input  wire                 ol_in,
    input  wire                 load,
    output reg  [KP*DW-1:0]     a,
    output reg  [KP*DW-1:0]     b,
    output reg                  v,
    output reg                  l,
    output reg  signed [AW-1:0] acc,
    output reg  signed [AW-1:0] o,
    output reg                  ov,
    output reg                  ol
);
    reg  signed [AW-1:0]   hold;
    wire signed [AW-1:0]   dot;
    wire signed [AW-1:0]   accp = acc + dot;
    pe_dot #(.DW(DW), .AW(AW), .KP(KP)) u_dot (.a(a), .b(b), .dot(dot));

    always @(posedge clk) begin
        if (rst) begin
            a <= {KP*DW{1'b0}}; b <= {KP*DW{1'b0}}; v <= 1'b0; l <= 1'b0;
            acc <= {AW{1'b0}}; hold <= {AW{1'b0}};
            o <= {AW{1'b0}}; ov <= 1'b0; ol <= 1'b0;
        end else begin
            a <= a_in; b <= b_in; v <= v_in; l <= l_in;
            if (v) acc <= l ? {AW{1'b0}} : accp;
            if (v && l) hold <= accp;
            if (load) begin
                o  <= (BOTTOM != 0) ? accp : hold;
                ov <= 1'b1;
                ol <= (TOP != 0);
            end else begin
                o <= o_in; ov <= ov_in; ol <= ol_in;
            end
        end
    end
endmodule
