// Fold sequencer shared by the systolic cores: start/done handshake, cycle counter, the latched
// dimensions, and the (fold, step) schedule. OS (WS=0) spreads M on rows and streams K; WS (WS=1)
// spreads K on rows and streams M; N is on columns in both. State c issues step t = c mod P of fold c / P, folds row-tile-major
// (fc inner). P = max(T, R). `done` rises one edge after the array reports the last fold out,
// so `cycles` then equals the state index of done (docs/systolic_pipelined.md). With KP MACs per PE
// the reduction counts in groups of KP terms: K enters as ceil(K / KP) (rows in WS, steps in OS).
module gemm_ctrl #(
    parameter integer R  = 4,
    parameter integer C  = 4,
    parameter integer IW = 16,   // width of GEMM dimensions and counters
    parameter integer CW = 32,   // width of the cycle counter
    parameter integer WS = 0,    // 1: K on rows, M streamed (weight-stationary)
    parameter integer KP = 1     // MACs per PE along the reduction
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [IW-1:0] dim_m,    // the GEMM port's dimensions, latched at start as:
    input  wire [IW-1:0] dim_n,
    input  wire [IW-1:0] dim_k,
    output reg  [IW-1:0] s_r,      // spatial extent on rows (M, or K in WS)
    output reg  [IW-1:0] s_c,      // spatial extent on columns (N)
    output reg  [IW-1:0] t_len,    // streamed steps per fold (K, or M in WS)
    output reg  [IW-1:0] k_len,    // the reduction K in terms (lanes beyond it read zero)
    input  wire          fold_out, // last result of a fold is on the last column's port
    output reg           busy,
    output reg           done,
    output reg  [CW-1:0] cycles,
    output reg           issuing,
    output reg  [IW-1:0] t,
    output reg  [IW-1:0] fr,
    output reg  [IW-1:0] fc
);
    localparam [IW-1:0] RW  = R[IW-1:0];
    localparam [IW-1:0] CWD = C[IW-1:0];
    localparam [IW-1:0] ONE = 1;
    localparam [CW-1:0] CYC_ONE = 1;
    localparam [IW-1:0] KPW = KP[IW-1:0];
    wire [IW-1:0] k_groups = (dim_k + KPW - ONE) / KPW;

    wire [IW-1:0] fr_n    = (s_r + RW - ONE) / RW;
    wire [IW-1:0] fc_n    = (s_c + CWD - ONE) / CWD;
    wire [IW-1:0] period  = (t_len > RW) ? t_len : RW;
    wire [IW-1:0] folds_n = fr_n * fc_n;
    reg  [IW-1:0] folds_out;

    always @(posedge clk) begin
        if (rst) begin
            s_r <= ONE; s_c <= ONE; t_len <= ONE; k_len <= ONE;
            busy <= 1'b0; done <= 1'b0; cycles <= {CW{1'b0}}; issuing <= 1'b0;
            t <= {IW{1'b0}}; fr <= {IW{1'b0}}; fc <= {IW{1'b0}}; folds_out <= {IW{1'b0}};
        end else if (start && !busy) begin
            s_r <= (WS != 0) ? k_groups : dim_m; s_c <= dim_n; t_len <= (WS != 0) ? dim_m : k_groups;
            k_len <= dim_k;
            busy <= 1'b1; done <= 1'b0; cycles <= {CW{1'b0}}; issuing <= 1'b1;
            t <= {IW{1'b0}}; fr <= {IW{1'b0}}; fc <= {IW{1'b0}}; folds_out <= {IW{1'b0}};
        end else if (busy) begin
            cycles <= cycles + CYC_ONE;
            if (issuing) begin
                if (t == period - ONE) begin
                    t <= {IW{1'b0}};
                    if (fc == fc_n - ONE) begin
                        fc <= {IW{1'b0}};
                        if (fr == fr_n - ONE) issuing <= 1'b0;
                        else fr <= fr + ONE;
                    end else begin
                        fc <= fc + ONE;
                    end
                end else begin
                    t <= t + ONE;
                end
            end
            if (fold_out) begin
                folds_out <= folds_out + ONE;
                if (folds_out == folds_n - ONE) begin
                    busy <= 1'b0;
                    done <= 1'b1;
                end
            end
        end
    end
endmodule
