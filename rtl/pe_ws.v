// Weight-stationary PE. a/v/l/fs are the input registers (forwarded right). `ws` is the shadow
// weight, written by the column's row-addressed load lane; the first element of a fold (fs)
// multiplies by the shadow and copies it into the active weight `w`. The partial sum p flows
// down; pv/pl say whether it is valid and the last of its fold. With KP MACs the PE holds KP
// weights of its column (consecutive reduction terms), takes KP inputs a cycle and adds their
// KP-term dot product (KP multipliers and an adder chain) into the passing partial sum.
module pe_ws #(
    parameter integer DW = 8,
    parameter integer AW = 32,
    parameter integer KP = 1
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [KP*DW-1:0]     a_in,
    input  wire                 v_in,
    input  wire                 l_in,
    input  wire                 fs_in,
    input  wire signed [AW-1:0] p_in,
    input  wire                 wl_hit,
    input  wire [KP*DW-1:0]     wl_data,
    output reg  [KP*DW-1:0]     a,
    output reg                  v,
    output reg                  l,
    output reg                  fs,
    output reg  signed [AW-1:0] p,
    output reg                  pv,
    output reg                  pl
);
    reg  [KP*DW-1:0] w, ws;
    wire [KP*DW-1:0] wu = fs ? ws : w;
    wire signed [AW-1:0] dot;
    pe_dot #(.DW(DW), .AW(AW), .KP(KP)) u_dot (.a(a), .b(wu), .dot(dot));

    always @(posedge clk) begin
        if (rst) begin
            a <= {KP*DW{1'b0}}; v <= 1'b0; l <= 1'b0; fs <= 1'b0;
            w <= {KP*DW{1'b0}}; ws <= {KP*DW{1'b0}};
            p <= {AW{1'b0}}; pv <= 1'b0; pl <= 1'b0;
        end else begin
            a <= a_in; v <= v_in; l <= l_in; fs <= fs_in;
            if (v && fs) w <= ws;
            if (wl_hit) ws <= wl_data;
            p  <= p_in + dot;
            pv <= v;
            pl <= v && l;
        end
    end
endmodule
