// Colour grading shared by the spheres and the full-resolution keyframes, so the whole picture
// follows the hue, saturation and brightness parameters alike.
uniform float hue_shift;     // radians
uniform float saturation;    // 1 = unchanged
uniform float brightness;    // 1 = unchanged

vec3 grade(vec3 rgb) {
    // Rotate hue about the grey axis in YIQ, scale chroma, scale light.
    const mat3 to_yiq = mat3(0.299, 0.596, 0.211, 0.587, -0.274, -0.523, 0.114, -0.322, 0.312);
    const mat3 to_rgb = mat3(1.0, 1.0, 1.0, 0.956, -0.272, -1.106, 0.621, -0.647, 1.703);
    vec3 yiq = to_yiq * rgb;
    float c = cos(hue_shift), s = sin(hue_shift);
    yiq.yz = mat2(c, s, -s, c) * yiq.yz * saturation;
    return clamp(to_rgb * yiq * brightness, 0.0, 1.0);
}
