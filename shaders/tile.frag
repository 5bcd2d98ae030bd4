#version 330 core
// The finish of a wall's tile (installation/render/finish.py): the drawn tile seen through the
// corner pin, its soft edges ramped down where a neighbouring projector's light overlaps. The
// ramp is the easing curve, whose two halves add up to one (ease(t) + ease(1 - t) = 1), raised to
// 1/gamma so that the two projectors' light, once their gamma applies, adds up to one's.
#include "curves.glsl"
in vec2 uv;
uniform sampler2D picture;
uniform mat3 pin;            // output point (from its top-left, in shares) -> picture point
uniform vec2 size;           // the tile in pixels
uniform vec4 edges;          // soft edge widths in pixels: left, right, top, bottom (0: none)
uniform float gamma;
out vec4 colour;

float ramp(float inside, float width) {
    return width > 0.0 ? ease(inside / width) : 1.0;
}

void main() {
    vec3 mapped = pin * vec3(uv.x, 1.0 - uv.y, 1.0);
    vec2 point = mapped.xy / mapped.z;
    if (mapped.z <= 0.0 || any(lessThan(point, vec2(0.0))) || any(greaterThan(point, vec2(1.0)))) {
        colour = vec4(0.0);
        return;
    }
    vec2 pixel = point * size;
    float light = ramp(pixel.x, edges.x) * ramp(size.x - pixel.x, edges.y)
                * ramp(pixel.y, edges.z) * ramp(size.y - pixel.y, edges.w);
    colour = texture(picture, vec2(point.x, 1.0 - point.y)) * pow(light, 1.0 / gamma);
}
