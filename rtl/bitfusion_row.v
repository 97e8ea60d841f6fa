// Bit Fusion (ISCA'18) fusion units as a GEMM core (our own RTL): each of C units holds 16 BitBricks
// (2-bit x 2-bit products); at activation width PA and weight width PW (2, 4 or 8) a unit fuses them
// into F = (8/PA)(8/PW) MACs a cycle: brick (f, i, j) multiplies 2-bit slice i of a = A[m][k0+f] by
// slice j of w = B[k0+f][n] (the top slice of each operand signed, the others unsigned) and the
// shift-add tree weighs it by 4^(i+j). Operands sit in the buffers as DW-bit words whose low PA/PW
// bits hold the value. Port as the systolic cores (docs/rtl.md): ceil(K/F) cycles per row; each row's
// results leave on out_valid/out_data in the cycle of its last step; done one cycle later, `cycles`
// = steps + 1. dbg_acc shows each unit's accumulator.
module bitfusion_row #(
    parameter integer C    = 4,
    parameter integer PA   = 8,
    parameter integer PW   = 8,
    parameter integer DW   = 8,
    parameter integer AW   = 32,
    parameter integer IW   = 16,
    parameter integer CW   = 32,
    parameter integer MAXM = 16,
    parameter integer MAXN = 16,
    parameter integer MAXK = 16
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            ld_we,
    input  wire            ld_sel,
    input  wire [IW-1:0]   ld_addr,
    input  wire [DW-1:0]   ld_data,
    input  wire            start,
    input  wire [IW-1:0]   dim_m,
    input  wire [IW-1:0]   dim_n,
    input  wire [IW-1:0]   dim_k,
    output reg             busy,
    output reg             done,
    output reg  [CW-1:0]   cycles,
    output reg  [C-1:0]    out_valid,
    output reg  [C-1:0]    out_last,
    output reg  [C*AW-1:0] out_data,
    output wire [C*AW-1:0] dbg_acc
);
    localparam integer SA = PA / 2, SW = PW / 2;        // 2-bit slices per operand
    localparam integer F = 16 / (SA * SW);              // MACs fused per cycle
    localparam [IW-1:0] ONE = 1;
    localparam [IW-1:0] FW = F[IW-1:0];
    localparam [IW-1:0] CWD = C[IW-1:0];

    reg [IW-1:0] m_dim, n_dim, k_dim, fc0, m, k0;
    reg          run, fin;

    wire last_step = (k0 + FW >= k_dim);
    wire row_end = run && last_step;
    wire fold_end = row_end && (m + ONE == m_dim);
    wire op_end = fold_end && (fc0 + CWD >= n_dim);

    wire [F*DW-1:0] a_vals;
    wire [F-1:0]    a_en;
    wire [F*IW-1:0] a_r, a_c;
    genvar f, j;
    generate
        for (f = 0; f < F; f = f + 1) begin : g_a
            assign a_en[f] = run && (k0 + f[IW-1:0] < k_dim);
            assign a_r[f*IW +: IW] = m;
            assign a_c[f*IW +: IW] = k0 + f[IW-1:0];
        end
    endgenerate
    gemm_buf #(.DW(DW), .ROWS(MAXM), .COLS(MAXK), .LANES(F), .IW(IW)) abuf (
        .clk(clk), .we(ld_we && !ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(a_en), .rrow(a_r), .rcol(a_c), .rdata(a_vals));

    wire [F*C*DW-1:0] w_vals;
    wire [F*C-1:0]    w_en;
    wire [F*C*IW-1:0] w_r, w_c;
    reg  [C*AW-1:0]   acc;
    generate
        for (j = 0; j < C; j = j + 1) begin : g_unit
            wire [IW-1:0] n = fc0 + j[IW-1:0];
            for (f = 0; f < F; f = f + 1) begin : g_w
                assign w_en[f*C + j] = a_en[f] && (n < n_dim);
                assign w_r[(f*C + j)*IW +: IW] = k0 + f[IW-1:0];
                assign w_c[(f*C + j)*IW +: IW] = n;
            end
            // the 16 bricks and the shift-add tree
            reg [AW-1:0] tree;
            reg signed [2:0] sa, sw;
            reg signed [5:0] pr;
            integer bf, bi, bj;
            always @(*) begin
                tree = {AW{1'b0}};
                for (bf = 0; bf < F; bf = bf + 1)
                    for (bi = 0; bi < SA; bi = bi + 1)
                        for (bj = 0; bj < SW; bj = bj + 1) begin
                            sa = (bi == SA - 1) ? {a_vals[bf*DW + 2*bi + 1], a_vals[bf*DW + 2*bi +: 2]}
                                                : {1'b0, a_vals[bf*DW + 2*bi +: 2]};
                            sw = (bj == SW - 1)
                                ? {w_vals[(bf*C + j)*DW + 2*bj + 1], w_vals[(bf*C + j)*DW + 2*bj +: 2]}
                                : {1'b0, w_vals[(bf*C + j)*DW + 2*bj +: 2]};
                            pr = sa * sw;                       // one BitBrick
                            tree = tree + ({{(AW-6){pr[5]}}, pr} << (2 * (bi + bj)));
                        end
            end
            wire [AW-1:0] next = acc[j*AW +: AW] + tree;
            assign dbg_acc[j*AW +: AW] = acc[j*AW +: AW];
            always @(posedge clk) begin
                if (rst || (start && !busy)) begin
                    acc[j*AW +: AW] <= {AW{1'b0}};
                    out_data[j*AW +: AW] <= {AW{1'b0}};
                end else if (run) begin
                    acc[j*AW +: AW] <= row_end ? {AW{1'b0}} : next;
                    if (row_end) out_data[j*AW +: AW] <= next;
                end
            end
        end
    endgenerate
    gemm_buf #(.DW(DW), .ROWS(MAXK), .COLS(MAXN), .LANES(F*C), .IW(IW)) wbuf (
        .clk(clk), .we(ld_we && ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(w_en), .rrow(w_r), .rcol(w_c), .rdata(w_vals));

    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; done <= 1'b0; run <= 1'b0; fin <= 1'b0; cycles <= {CW{1'b0}};
            m_dim <= ONE; n_dim <= ONE; k_dim <= ONE; fc0 <= 0; m <= 0; k0 <= 0;
            out_valid <= {C{1'b0}}; out_last <= {C{1'b0}};
        end else if (start && !busy) begin
            busy <= 1'b1; done <= 1'b0; run <= 1'b1; fin <= 1'b0; cycles <= {CW{1'b0}};
            m_dim <= dim_m; n_dim <= dim_n; k_dim <= dim_k; fc0 <= 0; m <= 0; k0 <= 0;
            out_valid <= {C{1'b0}}; out_last <= {C{1'b0}};
        end else if (busy) begin
            cycles <= cycles + 1'b1;
            out_valid <= {C{row_end}};
            out_last <= {C{fold_end}};
            fin <= op_end;
            if (fin) begin
                done <= 1'b1;
                busy <= 1'b0;
            end
            if (run) begin
                if (!last_step) begin
                    k0 <= k0 + FW;
                end else begin
                    k0 <= 0;
                    if (m + ONE < m_dim) begin
                        m <= m + ONE;
                    end else begin
                        m <= 0;
                        fc0 <= fc0 + CWD;
                        if (op_end) run <= 1'b0;
                    end
                end
            end
        end else begin
            done <= 1'b0;
            out_valid <= {C{1'b0}};
            out_last <= {C{1'b0}};
        end
    end
endmodule
