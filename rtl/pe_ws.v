// Weight-stationary PE. a/v/l/fs are the input registers (forwarded right). `ws` is the shadow
// weight, written by the column's row-addressed load lane; the first element of a fold (fs)
// multiplies by the shadow and copies it into the active weight `w`. The partial sum p flows
// down; pv/pl say whether it is valid and the last of its fold.
module pe_ws #(
    parameter integer DW = 8,
    parameter integer AW = 32
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire signed [DW-1:0] a_in,
    input  wire                 v_in,
    input  wire                 l_in,
    input  wire                 fs_in,
    input  wire signed [AW-1:0] p_in,
    input  wire                 wl_hit,
    input  wire signed [DW-1:0] wl_data,
    output reg  signed [DW-1:0] a,
    output reg                  v,
    output reg                  l,
    output reg                  fs,
    output reg  signed [AW-1:0] p,
    output reg                  pv,
    output reg                  pl
);
    reg  signed [DW-1:0]   w, ws;
    wire signed [DW-1:0]   wu   = fs ? ws : w;
    wire signed [2*DW-1:0] prod = a * wu;

    always @(posedge clk) begin
        if (rst) begin
            a <= {DW{1'b0}}; v <= 1'b0; l <= 1'b0; fs <= 1'b0;
            w <= {DW{1'b0}}; ws <= {DW{1'b0}};
            p <= {AW{1'b0}}; pv <= 1'b0; pl <= 1'b0;
        end else begin
            a <= a_in; v <= v_in; l <= l_in; fs <= fs_in;
            if (v && fs) w <= ws;
            if (wl_hit) ws <= wl_data;
            p  <= p_in + {{(AW-2*DW){prod[2*DW-1]}}, prod};
            pv <= v;
            pl <= v && l;
        end
    end
endmodule
