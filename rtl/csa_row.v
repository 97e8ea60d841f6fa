// A row of C OPT1 carry-save PEs (rtl/csa_pe.v) as a GEMM core: C[M,N] = A[M,K] @ B[K,N], output
// stationary. Per fold of C columns and per row m, A[m][k] is broadcast and B[k][fold + j] fed to
// PE j for k = 0..K-1, one MAC per PE per cycle, back to back across rows; the carry-save pair is
// resolved by one carry-propagate add at the array edge as the next row starts. Port as the
// systolic cores (docs/rtl.md): each row's results leave on out_valid/out_data two cycles after its
// last issue (input register and tree; the edge CPA's register overlaps the next row), folds in
// order, out_last on row M-1; done one cycle later; `cycles` = M * K * folds + 3. dbg_acc shows
// each PE's sum + carry.
module csa_row #(
    parameter integer C    = 4,
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
    localparam [IW-1:0] ONE = 1;
    localparam [IW-1:0] CWD = C[IW-1:0];

    reg [IW-1:0] m_dim, n_dim, k_dim, fc0, m, k;
    reg          run;
    // row-end markers travelling with the pipeline: issue -> input register -> tree -> edge CPA
    reg [1:0]    end_q, last_q, fin_q;
    reg          fin;

    wire         issue = run;
    wire         row_end = issue && (k + ONE == k_dim);
    wire         fold_end = row_end && (m + ONE == m_dim);
    wire         op_end = fold_end && (fc0 + CWD >= n_dim);

    wire [DW-1:0]   a_val;
    gemm_buf #(.DW(DW), .ROWS(MAXM), .COLS(MAXK), .LANES(1), .IW(IW)) abuf (
        .clk(clk), .we(ld_we && !ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(issue), .rrow(m), .rcol(k), .rdata(a_val));
    wire [C*DW-1:0] b_row;
    wire [C-1:0]    b_en;
    wire [C*IW-1:0] b_r, b_c;
    genvar j;
    generate
        for (j = 0; j < C; j = j + 1) begin : g_pe
            wire [IW-1:0] n = fc0 + j[IW-1:0];
            assign b_en[j] = issue && (n < n_dim);
            assign b_r[j*IW +: IW] = k;
            assign b_c[j*IW +: IW] = n;
            wire [AW-1:0] s, c;
            csa_pe #(.DW(DW), .AW(AW)) pe (
                .clk(clk), .rst(rst), .in_valid(issue), .in_clear(issue && k == 0),
                .a(a_val), .b(b_row[j*DW +: DW]), .sum(s), .carry(c));
            assign dbg_acc[j*AW +: AW] = s + c;
            always @(posedge clk) begin
                if (rst) out_data[j*AW +: AW] <= {AW{1'b0}};
                else if (end_q[1]) out_data[j*AW +: AW] <= s + c;     // the edge CPA
            end
        end
    endgenerate
    gemm_buf #(.DW(DW), .ROWS(MAXK), .COLS(MAXN), .LANES(C), .IW(IW)) bbuf (
        .clk(clk), .we(ld_we && ld_sel), .waddr(ld_addr), .wdata(ld_data),
        .ren(b_en), .rrow(b_r), .rcol(b_c), .rdata(b_row));

    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; done <= 1'b0; run <= 1'b0; fin <= 1'b0; cycles <= {CW{1'b0}};
            m_dim <= ONE; n_dim <= ONE; k_dim <= ONE; fc0 <= 0; m <= 0; k <= 0;
            end_q <= 2'b00; last_q <= 2'b00; fin_q <= 2'b00;
            out_valid <= {C{1'b0}}; out_last <= {C{1'b0}};
        end else if (start && !busy) begin
            busy <= 1'b1; done <= 1'b0; run <= 1'b1; fin <= 1'b0; cycles <= {CW{1'b0}};
            m_dim <= dim_m; n_dim <= dim_n; k_dim <= dim_k; fc0 <= 0; m <= 0; k <= 0;
            end_q <= 2'b00; last_q <= 2'b00; fin_q <= 2'b00;
            out_valid <= {C{1'b0}}; out_last <= {C{1'b0}};
        end else if (busy) begin
            cycles <= cycles + 1'b1;
            end_q <= {end_q[0], row_end};
            last_q <= {last_q[0], fold_end};
            fin_q <= {fin_q[0], op_end};
            out_valid <= {C{end_q[1]}};
            out_last <= {C{last_q[1]}};
            fin <= fin_q[1];
            if (fin) begin
                done <= 1'b1;
                busy <= 1'b0;
            end
            if (run) begin
                if (!row_end) begin
                    k <= k + ONE;
                end else begin
                    k <= 0;
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
