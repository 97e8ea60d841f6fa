// The GEMM port's parameters (docs/rtl.md "Core interface"), shared by every GEMM core: included as the
// last entries of a core's parameter list, after the core's own (array shape, mode, FAULT).
    parameter integer DW   = 8,     // operand bits
    parameter integer AW   = 32,    // accumulator bits
    parameter integer IW   = 16,    // dimension and counter bits
    parameter integer CW   = 32,    // cycle counter bits
    parameter integer MAXM = 16,    // operand buffer sizes
    parameter integer MAXN = 16,
    parameter integer MAXK = 16
