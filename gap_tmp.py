import archsim
from dataflows.mapper import mapper_for
for cfg in ("configs/default.yaml","configs/edge_ddr4.yaml","configs/tpu_like_hbm2.yaml"):
    d = archsim.load_config(cfg)
    rep = archsim.run(d, d.workload.model_dump(exclude_none=True))
    from archsim.workload import resolve_workload
    wl = resolve_workload(d.workload.model_dump(exclude_none=True), d)
    worst=0
    for op, row in zip(wl.ops, rep.ops):
        if row["mapping"] == "stream": continue
        m = mapper_for(d, row["unit"], None, op).map_gemm(op.as_gemm(), op.name, op.kind)
        gap = m.best.cycles*op.count/row["cycles"]-1
        worst=max(worst,abs(gap))
    print(cfg, "worst %.2f%%"%(100*worst), len(wl.ops))
