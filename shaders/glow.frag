#version 330 core
// Glow (bloom), in two passes at a quarter of the frame's size: the first keeps what is
// brighter than ``threshold`` and blurs it along x, the second blurs that along y. compose.frag
// adds the result to the frame.
in vec2 uv;
uniform sampler2D picture;
uniform vec2 uv_scale;         // the source's uv at this pass's uv (1: the same span)
uniform vec2 step_uv;          // one tap's offset in the source's uv: along x or along y
uniform float threshold;       // 0: blur as it is (the second pass)
out vec4 colour;

const float WEIGHTS[5] = float[](0.227027, 0.1945946, 0.1216216, 0.054054, 0.016216);

vec3 bright(vec2 at) {
    vec3 rgb = texture(picture, at).rgb;
    float light = dot(rgb, vec3(0.2126, 0.7152, 0.0722));
    return threshold > 0.0 ? rgb * smoothstep(threshold, 1.0, light) : rgb;
}

void main() {
    vec2 at = uv * uv_scale;
    vec3 sum = bright(at) * WEIGHTS[0];
    for (int i = 1; i < 5; ++i) {
        sum += (bright(at + float(i) * step_uv) + bright(at - float(i) * step_uv)) * WEIGHTS[i];
    }
    colour = vec4(sum, 1.0);
}
