// HPCA'25 OPT1 compressed-accumulative PE (our own RTL): the operands are registered (the input
// pipeline stage), then a radix-4 modified-Booth recoding of a gives four partial products
// d_i * b << 2i (d_i in -2..2: a mux, a shift and a negate), and those four with the accumulator's
// (sum, carry) pair go through one 6:2 carry-save tree (four 3:2 rows) into the registered (sum,
// carry). No carry-propagate adder in the loop; value = sum + carry (mod 2^AW). 1 MAC per cycle,
// latency 2 (input register + tree). `clear` starts a new dot product.
module csa_pe #(
    parameter integer DW = 8,
    parameter integer AW = 32
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          in_valid,
    input  wire          in_clear,
    input  wire [DW-1:0] a,
    input  wire [DW-1:0] b,
    output reg  [AW-1:0] sum,
    output reg  [AW-1:0] carry
);
    localparam integer ND = (DW + 1) / 2;
    reg          v_q, clr_q;
    reg [DW-1:0] a_q, b_q;
    always @(posedge clk) begin
        if (rst) begin
            v_q <= 1'b0; clr_q <= 1'b0; a_q <= {DW{1'b0}}; b_q <= {DW{1'b0}};
        end else begin
            v_q <= in_valid; clr_q <= in_clear; a_q <= a; b_q <= b;
        end
    end

    // Booth digits of a_q: d_i = -2 a[2i+1] + a[2i] + a[2i-1] (a[-1] = 0, a sign-extended)
    wire [2*ND:0] ax = {{(2*ND-DW+1){a_q[DW-1]}}, a_q} << 1;    // ax[j+1] = a[j]; ax[0] = a[-1] = 0
    wire [AW-1:0] bx = {{(AW-DW){b_q[DW-1]}}, b_q};
    wire [4*AW-1:0] pp;
    genvar i;
    generate
        for (i = 0; i < ND; i = i + 1) begin : g_pp
            wire [2:0] t = ax[2*i +: 3];                         // {a[2i+1], a[2i], a[2i-1]}
            reg  [AW-1:0] p;
            always @(*) begin
                case (t)
                    3'b001, 3'b010: p = bx;
                    3'b011:         p = bx << 1;
                    3'b100:         p = ~(bx << 1) + 1'b1;
                    3'b101, 3'b110: p = ~bx + 1'b1;
                    default:        p = {AW{1'b0}};
                endcase
            end
            if (i < 4) begin : g_keep
                assign pp[i*AW +: AW] = p << (2 * i);
            end
        end
        for (i = ND; i < 4; i = i + 1) begin : g_zero
            assign pp[i*AW +: AW] = {AW{1'b0}};
        end
    endgenerate

    wire [AW-1:0] s0 = clr_q ? {AW{1'b0}} : sum;
    wire [AW-1:0] c0 = clr_q ? {AW{1'b0}} : carry;
    // the 6:2 tree: four rows of 3:2 compressors
    function automatic [2*AW-1:0] csa(input [AW-1:0] x, input [AW-1:0] y, input [AW-1:0] z);
        csa = {((x & y) | (x & z) | (y & z)) << 1, x ^ y ^ z};
    endfunction
    wire [2*AW-1:0] l1a = csa(pp[0 +: AW], pp[AW +: AW], pp[2*AW +: AW]);
    wire [2*AW-1:0] l1b = csa(pp[3*AW +: AW], s0, c0);
    wire [2*AW-1:0] l2 = csa(l1a[0 +: AW], l1a[AW +: AW], l1b[0 +: AW]);
    wire [2*AW-1:0] l3 = csa(l2[0 +: AW], l2[AW +: AW], l1b[AW +: AW]);
    always @(posedge clk) begin
        if (rst) begin
            sum <= {AW{1'b0}};
            carry <= {AW{1'b0}};
        end else if (v_q) begin
            sum <= l3[0 +: AW];
            carry <= l3[AW +: AW];
        end
    end
endmodule
