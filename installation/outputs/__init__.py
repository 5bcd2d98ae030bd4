"""Video outputs for other programs: NDI (any OS, over the network), Spout (Windows), Syphon (macOS).

Each is import-guarded: the binding is imported when the output is opened, and a missing
binding, runtime or OS ends in one ``UserError`` sentence that names the fix.
"""
