"""The GL-free core: parameters, the conductor, transitions and sphere transport.

Nothing here imports OpenGL, pygame or torch, so all motion and timing logic is tested in
milliseconds without a GPU.
"""
