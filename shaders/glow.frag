#version 330 core
// Glow (bloom), in three passes at a quarter of the frame's size. The first (BRIGHT defined)
// keeps what is brighter than ``threshold``, one filtered read a texel (the mean of the 2x2 pixels
// about its centre), with a margin of texels past the frame's left and right edges read as the
// frame's edge reads, so the blur along x sees what 9 taps on the frame would. The second blurs
// that along x, the third along y; compose.frag adds the result to the frame. Each blur is a
// 9-tap Gaussian read in 5 filtered taps: a pair of neighbouring texels (weights w1, w2 at 1 and 2
// texels) is one read between them, at (w1 + 2 w2) / (w1 + w2), weighted w1 + w2.
in vec2 uv;
uniform sampler2D picture;
uniform vec2 uv_scale;         // the source's uv at this pass's uv: uv * uv_scale + uv_offset
uniform vec2 uv_offset;
uniform vec2 step_uv;          // one texel of the source along the blur
uniform float threshold;
out vec4 colour;

const float WEIGHTS[3] = float[](0.227027, 0.3162162, 0.0702703);
const float OFFSETS[3] = float[](0.0, 1.3846154, 3.2307692);

void main() {
    vec2 at = uv * uv_scale + uv_offset;
#ifdef BRIGHT
    vec3 rgb = texture(picture, at).rgb;
    colour = vec4(rgb * smoothstep(threshold, 1.0, dot(rgb, vec3(0.2126, 0.7152, 0.0722))), 1.0);
#else
    vec3 sum = texture(picture, at).rgb * WEIGHTS[0];
    for (int i = 1; i < 3; ++i) {
        vec2 offset = OFFSETS[i] * step_uv;
        sum += (texture(picture, at + offset).rgb + texture(picture, at - offset).rgb) * WEIGHTS[i];
    }
    colour = vec4(sum, 1.0);
#endif
}
