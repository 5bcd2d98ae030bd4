#version 330 core
// Depth of field: each pixel is blurred over a disc whose radius grows with its sphere's
// distance from the picture plane (depth 0.5 in the window; see place.glsl), so spheres that
// wander towards the camera or away from it go soft while the picture plane stays sharp.
// Pixels no sphere covers (depth 1) stay sharp. 24 taps on a golden-angle spiral.
in vec2 uv;
uniform sampler2D picture;
uniform sampler2D depth;
uniform vec2 texel;            // 1 / size in pixels
uniform float strength;        // the defocus parameter
uniform float reach;           // blur radius in pixels per picture half-height of distance
out vec4 colour;

const int TAPS = 24;
const float GOLDEN = 2.39996323;
const float CAMERA_DEPTH = 12.0;   // 4 * CAMERA of place.glsl: window depth per half-height

// The blur radius at a pixel, read by whole pixels: a depth read between pixels would mix a
// sphere's depth with the empty background's 1.0, and a tile (whose uv differ from the whole
// canvas's) would then weigh some taps otherwise than the whole canvas does.
float blur_radius(ivec2 pixel) {
    float d = texelFetch(depth, clamp(pixel, ivec2(0), textureSize(depth, 0) - 1), 0).r;
    return d >= 1.0 ? 0.0 : min(strength * reach * abs(d - 0.5) * CAMERA_DEPTH, 24.0);
}

void main() {
    ivec2 here = ivec2(gl_FragCoord.xy);
    float radius = blur_radius(here);
    if (radius < 0.5) {
        colour = texture(picture, uv);
        return;
    }
    vec3 sum = vec3(0.0);
    float weight = 0.0;
    for (int i = 0; i < TAPS; ++i) {
        float r = radius * sqrt((float(i) + 0.5) / float(TAPS));
        vec2 offset = r * vec2(cos(float(i) * GOLDEN), sin(float(i) * GOLDEN));
        // a sharp neighbour in front of the plane does not smear into a blurred one behind it
        float w = clamp(blur_radius(here + ivec2(floor(offset + 0.5))) / radius, 0.2, 1.0);
        sum += texture(picture, uv + offset * texel).rgb * w;
        weight += w;
    }
    colour = vec4(sum / weight, texture(picture, uv).a);
}
