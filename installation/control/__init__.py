"""Live control: OSC (TouchOSC on a tablet) and sound (a live input or a music file)."""
