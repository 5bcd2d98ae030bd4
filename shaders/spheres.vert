#version 330 core
// Each sphere is one point. Its position is a closed-form function of (sphere id, motion,
// transition, parameters): a Brownian bridge from its cell in keyframe A to its destination
// cell in keyframe B, written as the Karhunen-Loeve series
//     x(p) = lerp(a, b, ease(p)) + sigma * sum_k sqrt(2) sin(k pi p) / (k pi) * Z_k,
// with Z_k standard normal per sphere, term and axis (integer hash -> sum of its bytes), in 3D.
// sigma is scaled per sphere by how much its cell changes (``follow`` blends that with 1), so
// the spheres that wander are those where the model changed the picture.
// The CPU sends a handful of uniforms per frame, whatever the number of spheres.
#include "curves.glsl"
#include "grade.glsl"
#include "place.glsl"

layout(location = 0) in vec2 cell_a;   // cell centre in keyframe A, uv (0,0 = top left)
layout(location = 1) in vec2 cell_b;   // destination cell centre in keyframe B
layout(location = 2) in float change;  // how much this sphere's cell changes, in typical changes

uniform sampler2D cells_a;     // one texel per cell: the cell's mean colour
uniform sampler2D cells_b;
uniform float motion;          // 0 = in A's grid, 1 = in B's
uniform uint transition;       // a new set of paths for every transition
uniform float sigma;           // diffusion amplitude, in picture half-heights
uniform int terms;             // bridge terms K
uniform float follow;          // 0: every sphere wanders alike; 1: by its own change

out vec3 sphere_colour;

const float PI = 3.14159265358979;

uint mix_bits(uint x) {
    x ^= x >> 16u; x *= 0x7feb352du;
    x ^= x >> 15u; x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

// A standard normal from one 32-bit hash: its four bytes summed (Irwin-Hall, n = 4), centred
// and scaled to unit variance. Visually indistinguishable from Box-Muller here, and a third of
// the cost: no log, root or trigonometry per term.
float normal(uint id, uint stream) {
    uint h = mix_bits(id * 0x9e3779b9u ^ mix_bits(stream + transition * 0x85ebca6bu));
    uvec4 bytes = (uvec4(h) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu;
    return (float(bytes.x + bytes.y + bytes.z + bytes.w) / 255.0 - 2.0) * 1.7320508;
}

vec3 normal3(uint id, uint k) {
    return vec3(normal(id, 3u * k), normal(id, 3u * k + 1u), normal(id, 3u * k + 2u));
}

vec3 plane_position(vec2 uv) {
    return vec3((uv.x * 2.0 - 1.0) * aspect, 1.0 - uv.y * 2.0, 0.0);
}

void main() {
    float p = motion;
    float eased = ease(p);
    vec3 position = mix(plane_position(cell_a), plane_position(cell_b), eased);
    vec3 wander = vec3(0.0);
    if (p > 0.0 && p < 1.0) {
        uint id = uint(gl_VertexID);
        // sin(k pi p) for k = 1, 2, ... by the Chebyshev recurrence: one sin and one cos in all.
        float twice_cos = 2.0 * cos(PI * p);
        float previous = 0.0, current = sin(PI * p);
        for (int k = 1; k <= terms; ++k) {
            wander += (current / (float(k) * PI)) * normal3(id, uint(k));
            float following = twice_cos * current - previous;
            previous = current;
            current = following;
        }
        wander *= sqrt(2.0);
    }
    place(position + sigma * mix(1.0, change, follow) * wander);

    vec3 colour = mix(texture(cells_a, cell_a).rgb, texture(cells_b, cell_b).rgb, eased);
    sphere_colour = grade(colour);
}
