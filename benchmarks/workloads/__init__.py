"""The workloads, in the order `make bench` runs them; each module has `run(cfg)`."""

WORKLOADS = ["lorenz", "mlp", "gmm", "stencil", "adaptive", "compile", "vmap_lorenz", "vmap_mlp", "vmap_adaptive"]
