// Row sequencer shared by the bit-weight GEMM cores: start/done handshake, cycle counter, the latched
// dimensions and the walk over folds of C columns (fc0) and rows of A (m). The core streams row m against
// columns fc0 .. fc0+C-1 and raises `row_end` in the cycle of the row's last step (only while `run`); the
// sequencer then moves to the next row or fold, and LAT registers later raises out_valid (out_last on a
// fold's last row). `capture` is high at the edge the core must latch the row's results into out_data
// (the edge that sets out_valid). `done` rises one edge after the last row's out_valid, so `cycles` then
// equals the state index of done.
module gemm_rows #(
    parameter integer C   = 4,
    parameter integer IW  = 16,
    parameter integer CW  = 32,
    parameter integer LAT = 1        // registers from a row's last step to its out_valid, >= 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [IW-1:0] dim_m,
    input  wire [IW-1:0] dim_n,
    input  wire [IW-1:0] dim_k,
    input  wire          row_end,
    output reg           busy,
    output reg           done,
    output reg  [CW-1:0] cycles,
    output wire [C-1:0]  out_valid,
    output wire [C-1:0]  out_last,
    output wire          capture,
    output reg           run,
    output reg  [IW-1:0] m,
    output reg  [IW-1:0] fc0,
    output reg  [IW-1:0] n_dim,
    output reg  [IW-1:0] k_dim
);
    localparam [IW-1:0] ONE = 1;
    localparam [IW-1:0] CWD = C[IW-1:0];

    reg  [IW-1:0] m_dim;
    wire fold_end = row_end && (m + ONE == m_dim);
    wire op_end = fold_end && (fc0 + CWD >= n_dim);

    // {op_end, fold_end, row_end} through LAT stages; the last drives out_valid, out_last and `fin`
    reg  [3*LAT-1:0] q;
    wire [3*LAT-1:0] q_next;
    generate
        if (LAT == 1) begin : g_one
            assign q_next = {op_end, fold_end, row_end};
            assign capture = row_end;
        end else begin : g_more
            assign q_next = {q[3*LAT-4:0], op_end, fold_end, row_end};
            assign capture = q[3*LAT-6];
        end
    endgenerate
    wire fin = q[3*LAT-1];
    assign out_last = {C{q[3*LAT-2]}};
    assign out_valid = {C{q[3*LAT-3]}};

    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; done <= 1'b0; run <= 1'b0; cycles <= {CW{1'b0}}; q <= {3*LAT{1'b0}};
            m_dim <= ONE; n_dim <= ONE; k_dim <= ONE; fc0 <= {IW{1'b0}}; m <= {IW{1'b0}};
        end else if (start && !busy) begin
            busy <= 1'b1; done <= 1'b0; run <= 1'b1; cycles <= {CW{1'b0}}; q <= {3*LAT{1'b0}};
            m_dim <= dim_m; n_dim <= dim_n; k_dim <= dim_k; fc0 <= {IW{1'b0}}; m <= {IW{1'b0}};
        end else if (busy) begin
            cycles <= cycles + 1'b1;
            q <= q_next;
            if (fin) begin
                done <= 1'b1;
                busy <= 1'b0;
            end
            if (row_end) begin
                if (m + ONE < m_dim) begin
                    m <= m + ONE;
                end else begin
                    m <= {IW{1'b0}};
                    fc0 <= fc0 + CWD;
                    if (op_end) run <= 1'b0;
                end
            end
        end else begin
            done <= 1'b0;
            q <= {3*LAT{1'b0}};
        end
    end
endmodule
