"""OpenGL: the window, shader programs, textures, the sphere field, readback and the frame composer.

Call ``installation.render.platform.choose`` before importing the other modules of this package:
it decides, once per process, whether OpenGL goes through a display or EGL offscreen.
"""
