"""`make bench`: morphism side by side with Numba, JAX, PyTorch, autograd and hand-written code."""
