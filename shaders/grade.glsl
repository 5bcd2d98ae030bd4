// Colour grading shared by the spheres and the full-resolution keyframes, so the whole picture
// follows the hue, saturation and brightness parameters alike: one matrix made once a frame on
// the CPU (render/renderer.py's grade_matrix: hue rotated about the grey axis in YIQ, chroma
// scaled by saturation, light by brightness), so a pixel costs one matrix product.
uniform mat3 grade_matrix;

vec3 grade(vec3 rgb) {
    return clamp(grade_matrix * rgb, 0.0, 1.0);
}
