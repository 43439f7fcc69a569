"""The math: data presets, the velocity net, solvers, couplings and training, metrics, experiments and the batched
step. It imports nothing from the live, protocol or api layers."""
