// The easing curve (installation/curves.py's smoothstep): Hermite on [0, 1], flat at both ends.
// tests/render/test_curves.py draws it and compares it with the Python one.
float ease(float p) {
    float v = clamp(p, 0.0, 1.0);
    return v * v * (3.0 - 2.0 * v);
}
