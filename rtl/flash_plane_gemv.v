// flash_plane_gemv: one flash plane with its page buffer feeding INT8 MAC lanes (Cambricon-LLM's
// in-die compute core), behind a byte-wide channel and a command interface.
//
// Commands (start for one edge with op, dim_m, dim_n, dim_k latched):
//   op 0, read-compute: CMD command/address bytes, then the input vectors (M x K INT8, m-major) arrive
//     over the channel (bus_in, one byte a cycle while in_ready), then tR (TR cycles, a counter) senses
//     the page into the page buffer, then LANES MACs a cycle run over the M x N x K products
//     (y[m][n] = sum_k W[n][k] x[m][k]), then the M x N INT32 partial sums leave over the channel,
//     m-major, least significant byte first, one byte a cycle.
//   op 1, sliced read: CMD bytes, tR, then the page's N x K bytes leave one a cycle (n-major);
//     slice_last marks the last byte of every SLICE-byte slice (and of the page).
// The page (the flash array's contents) is written before the command: ld_we, ld_addr = n*MAXK + k.
// `cycles` counts edges from the start edge to done; docs/rtl.md "flash_plane_gemv".
/* verilator lint_off BLKSEQ */
/* verilator lint_off WIDTH */
module flash_plane_gemv #(
    parameter integer MAXM = 16,
    parameter integer MAXN = 16,
    parameter integer MAXK = 16,
    parameter integer LANES = 2,
    parameter integer TR = 20,
    parameter integer CMD = 7,
    parameter integer SLICE = 4,
    parameter integer DW = 8,
    parameter integer AW = 32,
    parameter integer IW = 16,
    parameter integer CW = 32,
    parameter integer FAULT = 0     // 1: each partial sum leaves most significant byte first (the checker's self-test)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire          op,
    input  wire [IW-1:0] dim_m,
    input  wire [IW-1:0] dim_n,
    input  wire [IW-1:0] dim_k,
    input  wire          ld_we,
    input  wire          ld_sel,
    input  wire [IW-1:0] ld_addr,
    input  wire [DW-1:0] ld_data,
    input  wire          bus_in_valid,
    input  wire [7:0]    bus_in_data,
    output wire          in_ready,
    output reg           out_valid,
    output reg  [7:0]    out_data,
    output reg           slice_last,
    output wire          busy,
    output reg           done,
    output reg  [CW-1:0] cycles,
    output wire [2:0]    phase
);
    localparam [2:0] IDLE = 3'd0, CMDS = 3'd1, VEC = 3'd2, SENSE = 3'd3, MAC = 3'd4, OUT = 3'd5, DATA = 3'd6;

    reg [2:0] st;
    reg       opr;
    reg [IW-1:0] m_n, n_n, k_n;
    reg [CW-1:0] cnt;
    reg signed [DW-1:0] arr  [0:MAXN*MAXK-1];   // the flash array's page
    reg signed [DW-1:0] pbuf [0:MAXN*MAXK-1];   // the page buffer the lanes read
    reg signed [DW-1:0] xv   [0:MAXM*MAXK-1];   // input vectors
    reg signed [AW-1:0] acc  [0:MAXM*MAXN-1];   // partial sums
    integer i, l, idx, mm, nn, kk, r;

    assign in_ready = (st == CMDS) || (st == VEC);
    assign busy = st != IDLE;
    assign phase = st;

    // what the channel carries this cycle
    always @* begin
        out_valid = 1'b0;
        out_data = 8'd0;
        slice_last = 1'b0;
        r = 0;
        if (st == OUT) begin
            r = cnt / 4;
            out_valid = 1'b1;
            out_data = acc[(r / n_n) * MAXN + (r % n_n)] >> (8 * (FAULT != 0 ? 3 - cnt % 4 : cnt % 4));
        end else if (st == DATA) begin
            out_valid = 1'b1;
            out_data = pbuf[(cnt / k_n) * MAXK + (cnt % k_n)];
            slice_last = ((cnt + 1) % SLICE == 0) || (cnt + 1 == n_n * k_n);
        end
    end

    always @(posedge clk) begin
        if (ld_we && !ld_sel && ld_addr < MAXN * MAXK)
            arr[ld_addr] <= ld_data;
        if (rst) begin
            st <= IDLE;
            cnt <= 0;
            done <= 1'b0;
            cycles <= 0;
            opr <= 1'b0;
            m_n <= 0;
            n_n <= 0;
            k_n <= 0;
        end else if (st == IDLE) begin
            if (start) begin
                st <= CMDS;
                opr <= op;
                m_n <= dim_m;
                n_n <= dim_n;
                k_n <= dim_k;
                cnt <= 0;
                cycles <= 0;
                done <= 1'b0;
            end
        end else begin
            cycles <= cycles + 1;
            case (st)
                CMDS: if (bus_in_valid) begin
                    if (cnt == CMD - 1) begin
                        st <= opr ? SENSE : VEC;
                        cnt <= 0;
                    end else
                        cnt <= cnt + 1;
                end
                VEC: if (bus_in_valid) begin
                    xv[(cnt / k_n) * MAXK + (cnt % k_n)] <= bus_in_data;
                    if (cnt == m_n * k_n - 1) begin
                        st <= SENSE;
                        cnt <= 0;
                    end else
                        cnt <= cnt + 1;
                end
                SENSE: if (cnt == TR - 1) begin            // tR: the page lands in the page buffer
                    for (i = 0; i < MAXN * MAXK; i = i + 1)
                        pbuf[i] <= arr[i];
                    for (i = 0; i < MAXM * MAXN; i = i + 1)
                        acc[i] = 0;
                    st <= opr ? DATA : MAC;
                    cnt <= 0;
                end else
                    cnt <= cnt + 1;
                MAC: begin                                 // products cnt .. cnt+LANES-1, m-major, then n, k
                    for (l = 0; l < LANES; l = l + 1) begin
                        idx = cnt + l;
                        if (idx < m_n * n_n * k_n) begin
                            mm = idx / (n_n * k_n);
                            nn = (idx / k_n) % n_n;
                            kk = idx % k_n;
                            acc[mm * MAXN + nn] = acc[mm * MAXN + nn] + pbuf[nn * MAXK + kk] * xv[mm * MAXK + kk];
                        end
                    end
                    if (cnt + LANES >= m_n * n_n * k_n) begin
                        st <= OUT;
                        cnt <= 0;
                    end else
                        cnt <= cnt + LANES;
                end
                OUT: if (cnt == 4 * m_n * n_n - 1) begin
                    st <= IDLE;
                    done <= 1'b1;
                end else
                    cnt <= cnt + 1;
                DATA: if (cnt == n_n * k_n - 1) begin
                    st <= IDLE;
                    done <= 1'b1;
                end else
                    cnt <= cnt + 1;
                default: st <= IDLE;
            endcase
        end
    end
endmodule
/* verilator lint_on WIDTH */
/* verilator lint_on BLKSEQ */
